package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.junit.jupiter.api.DynamicTest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The oracle harness the codec tests share (AdminCodecsOracleTest, GroupCodecsOracleTest, KafkaClientsOracleTest,
 * ...): kafka-clients' generated message classes are the oracle for idemlog's hand-written codecs. A message
 * serialised by kafka-clients must decode with idemlog's codec (nothing left over), re-encode to the same bytes, and
 * read back by kafka-clients to an equal message; and what idemlog encodes itself, kafka-clients must read as the
 * expected message.
 */
final class CodecOracle {
    private CodecOracle() {
    }

    /** kafka-clients' generated reader of one message type ({@code FooRequestData::new}). */
    interface KafkaReader {
        org.apache.kafka.common.protocol.Message read(ByteBufferAccessor a, short version);
    }

    /** The bytes kafka-clients writes for {@code m} at {@code version}. */
    static byte[] kafkaBytes(org.apache.kafka.common.protocol.Message m, short version) {
        ByteBuffer b = MessageUtil.toByteBufferAccessor(m, version).buffer();
        ByteBuffer dup = b.duplicate();
        if (dup.position() != 0) {
            dup.flip();
        }
        byte[] out = new byte[dup.remaining()];
        dup.get(out);
        return out;
    }

    /** The bytes idemlog writes for {@code m} at {@code version}. */
    static byte[] ours(Message m, short version) {
        WireWriter w = new WireWriter();
        m.write(w, version);
        ByteBuffer b = w.toFlatBuffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Decodes {@code bytes} with idemlog's reader; fails if any byte is left over. */
    static <T extends Message> T decodeWhole(byte[] bytes, short version, BiFunction<WireReader, Short, T> reader) {
        WireReader r = new WireReader(ByteBuffer.wrap(bytes));
        T m = reader.apply(r, version);
        assertFalse(r.hasRemaining(), "undecoded bytes");
        return m;
    }

    /**
     * kafka-clients' bytes of {@code kafka} decode with idemlog's reader, re-encode to the same bytes, and
     * kafka-clients reads those back as an equal message. Returns idemlog's decoded message (for field checks).
     */
    static <T extends Message> T roundTrip(org.apache.kafka.common.protocol.Message kafka, short version,
                                           BiFunction<WireReader, Short, T> ourReader, KafkaReader kafkaReader) {
        byte[] theirs = kafkaBytes(kafka, version);
        T decoded = decodeWhole(theirs, version, ourReader);
        byte[] again = ours(decoded, version);
        assertArrayEquals(theirs, again, "idemlog's re-encoding differs from kafka-clients' bytes");
        assertEquals(kafka, kafkaReader.read(new ByteBufferAccessor(ByteBuffer.wrap(again)), version),
            "kafka-clients reads idemlog's bytes as a different message");
        return decoded;
    }

    /** {@link #roundTrip}, then {@code fieldChecks} on idemlog's decoded message. */
    static <T extends Message> void check(org.apache.kafka.common.protocol.Message kafka, short version,
                                          BiFunction<WireReader, Short, T> ourReader, KafkaReader kafkaReader,
                                          Consumer<T> fieldChecks) {
        fieldChecks.accept(roundTrip(kafka, version, ourReader, kafkaReader));
    }

    /** idemlog's {@code ours} written by idemlog, read by kafka-clients: the expected message, byte for byte. */
    static void checkOurs(Message ours, short version, org.apache.kafka.common.protocol.Message expected,
                          KafkaReader kafkaReader) {
        byte[] bytes = ours(ours, version);
        assertEquals(expected, kafkaReader.read(new ByteBufferAccessor(ByteBuffer.wrap(bytes)), version));
        assertArrayEquals(kafkaBytes(expected, version), bytes);
    }

    /** One dynamic test per version {@code from..to}, named "{@code api what vN}". */
    static Stream<DynamicTest> versions(String api, int from, int to, String what, IntConsumer test) {
        List<DynamicTest> tests = new ArrayList<>();
        for (int v = from; v <= to; v++) {
            int version = v;
            tests.add(DynamicTest.dynamicTest(api + " " + what + " v" + v, () -> test.accept(version)));
        }
        return tests.stream();
    }
}
