package io.idemlog.server;

import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.DurableFiles;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * {@code meta.properties}: the identity of a data directory (Kafka's file of the same name and keys):
 * {@code cluster.id}, {@code node.id} and {@code version=1}. Written once, atomically and durably, when a directory
 * is first used; read at every start. A file that exists but cannot be read as UTF-8 properties, has no
 * {@code cluster.id} or another version refuses the start, naming the file and what is wrong: generating a new
 * identity over it would silently turn the directory into another cluster's.
 */
final class MetaProperties {
    static final String FILE_NAME = "meta.properties";
    static final String VERSION = "1";
    /** Larger files are refused unread: the real one is ~100 bytes. */
    private static final long MAX_SIZE = 64 * 1024;

    private MetaProperties() {
    }

    /**
     * The directory's cluster id: the stored one (which must equal {@code configured} when that is set), or, for a
     * directory without the file, {@code configured} or a new one from {@code generate}, stored now.
     *
     * @throws CorruptFileException when the file exists but is unreadable or incomplete
     * @throws IOException          when the stored id differs from the configured one, or on I/O failure
     */
    static String clusterId(Path dataDir, String configured, int nodeId, Supplier<String> generate)
        throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        Files.deleteIfExists(file.resolveSibling(FILE_NAME + DurableFiles.TMP_SUFFIX));
        if (Files.exists(file)) {
            String stored = read(file).getProperty("cluster.id");
            if (configured != null && !stored.equals(configured)) {
                throw new IOException("data directory " + dataDir + " belongs to cluster " + stored
                    + " (" + file + "), not cluster.id=" + configured);
            }
            return stored;
        }
        String id = configured != null ? configured : generate.get();
        Properties p = new Properties();
        p.setProperty("cluster.id", id);
        p.setProperty("node.id", String.valueOf(nodeId));
        p.setProperty("version", VERSION);
        StringWriter text = new StringWriter();
        p.store(text, "idemlog data directory identity");
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(text.toString());
        DurableFiles.writeAtomically(file, channel -> DurableFiles.writeFully(channel, bytes));
        return id;
    }

    /**
     * Reads and checks the file: UTF-8, properties syntax, {@code version} 1 (when present), a non-blank
     * {@code cluster.id} without control characters.
     */
    static Properties read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_SIZE) {
            throw new CorruptFileException(file, -1L, size + " bytes, not a meta.properties file (at most " + MAX_SIZE
                + " expected)");
        }
        byte[] bytes = Files.readAllBytes(file);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer text;
        try {
            text = decoder.decode(in);
        } catch (CharacterCodingException e) {
            throw new CorruptFileException(file, firstInvalidUtf8(bytes), "not valid UTF-8 (" + e + ")");
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(text.toString()));
        } catch (IllegalArgumentException e) {
            throw new CorruptFileException(file, -1L, "not a properties file: " + e.getMessage());
        }
        String version = p.getProperty("version");
        if (version != null && !version.trim().equals(VERSION)) {
            throw new CorruptFileException(file, -1L, "version " + version + " is not supported (only " + VERSION
                + ")");
        }
        String clusterId = p.getProperty("cluster.id");
        if (clusterId == null || clusterId.isBlank()) {
            throw new CorruptFileException(file, -1L, "no cluster.id; refusing to give the data directory a new "
                + "identity (restore the file, or delete it to let the server write a new one)");
        }
        for (int i = 0; i < clusterId.length(); i++) {
            if (Character.isISOControl(clusterId.charAt(i))) {
                throw new CorruptFileException(file, -1L, "cluster.id holds a control character at index " + i);
            }
        }
        return p;
    }

    /** Index of the first byte that does not start or continue a valid UTF-8 sequence, or -1 when all are valid. */
    private static long firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        if (decoder.decode(in, out, true).isError()) {
            return in.position();
        }
        return -1L;
    }
}
