package io.idemlog.client.internal;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.ProduceFailedException;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerException;
import io.idemlog.client.ProducerTimeoutException;
import io.idemlog.client.RecordMetadata;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sender and the idempotence rules, driven step by step: a fake network ({@link MockTransport}) that the test
 * answers by hand, and a clock that only the test moves. No threads, no sleeps.
 */
class SenderTest {
    private static final String TOPIC = "t";
    private static final int NODE = 0;
    private static final long PID = 42L;

    private long now = 1_000_000L;
    private MockTransport transport;
    private Accumulator accumulator;
    private Metadata metadata;
    private Metrics metrics;
    private Sender sender;

    private void start(ProducerConfig.Builder config) {
        start(config, (short) 0);
    }

    private void start(ProducerConfig.Builder config, short initialEpoch) {
        ProducerConfig c = config.bootstrapServers("127.0.0.1:9092").build();
        transport = new MockTransport();
        metrics = new Metrics();
        BufferPool pool = new BufferPool(c.bufferMemory(), c.batchSize());
        metrics.bind(pool);
        accumulator = new Accumulator(c.batchSize(), c.lingerMs(), c.deliveryTimeoutMs(), pool, c.idempotence(),
            c.maxInFlightRequestsPerConnection());
        metadata = new Metadata(Metadata.bootstrapNodes(c.bootstrapServers()), c.metadataMaxAgeMs(),
            c.retryBackoffMs());
        metadata.addTopic(TOPIC);
        metadata.setClusterForTest(Cluster.of(List.of(new Node(NODE, "127.0.0.1", 9092)),
            List.of(new Cluster.TopicInfo(TOPIC, (short) 0, new int[] {NODE, NODE}))), now);
        sender = new Sender(c, accumulator, metadata, transport, metrics);
        transport.metadataAnswer = () -> metadataAnswer(NODE);
        if (c.idempotence()) {
            sender.runOnce(now);
            MockTransport.Sent init = transport.peek(NODE);
            assertEquals(ApiKey.INIT_PRODUCER_ID, init.api());
            assertNull(((InitProducerIdRequest) init.body()).transactionalId);
            transport.respond(NODE, initProducerId(PID, initialEpoch));
            sender.runOnce(now);
            assertEquals(PID, sender.producerId());
        }
    }

    private static ProducerConfig.Builder config() {
        // Stall detection and probes off: these tests drive request timeouts by hand (tested on their own below).
        return ProducerConfig.builder().lingerMs(0).requestTimeoutMs(1000).deliveryTimeoutMs(5000)
            .retryBackoffMs(10).stallTimeoutMs(0).answerProbeMs(0);
    }

    /** Metadata saying that {@code leader} leads both partitions of the topic. */
    private static MetadataResponse metadataAnswer(int leader) {
        MetadataResponse r = new MetadataResponse();
        r.brokers.add(new MetadataResponse.Broker(0, "127.0.0.1", 9092));
        r.brokers.add(new MetadataResponse.Broker(1, "127.0.0.1", 9093));
        MetadataResponse.Topic t = new MetadataResponse.Topic();
        t.name = TOPIC;
        for (int p = 0; p < 2; p++) {
            MetadataResponse.Partition mp = new MetadataResponse.Partition();
            mp.partitionIndex = p;
            mp.leaderId = leader;
            t.partitions.add(mp);
        }
        r.topics.add(t);
        return r;
    }

    private static InitProducerIdResponse initProducerId(long pid, short epoch) {
        InitProducerIdResponse r = new InitProducerIdResponse();
        r.producerId = pid;
        r.producerEpoch = epoch;
        return r;
    }

    private CompletableFuture<RecordMetadata> append(int partition) throws InterruptedException {
        CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
        accumulator.append(accumulator.queue(TOPIC, partition), now, null, "v".getBytes(), null, f, now,
            System.nanoTime() + 1_000_000_000L, false);
        return f;
    }

    private static ProduceResponse answer(int partition, int error, long baseOffset) {
        ProduceResponse r = new ProduceResponse();
        ProduceResponse.TopicResponse t = new ProduceResponse.TopicResponse(TOPIC);
        t.partitions.add(new ProduceResponse.PartitionResponse(partition, (short) error, baseOffset, 0L));
        r.topics.add(t);
        return r;
    }

    private List<MockTransport.Sent> produces() {
        return transport.sent(ApiKey.PRODUCE);
    }

    private static RecordBatch batch(byte[] bytes) {
        return new RecordBatch(ByteBuffer.wrap(bytes), 0);
    }

    /** Moves the clock and runs the sender; Metadata requests it sent are answered and it runs once more. */
    private void step(long advanceMs) {
        now += advanceMs;
        sender.runOnce(now);
        if (transport.answerMetadata() > 0) {
            sender.runOnce(now);
        }
    }

    @Test
    void shouldStampSequencesAtFirstDrainAndCompleteWithOffsets() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        assertEquals(2, produces().size());
        RecordBatch b1 = batch(produces().get(0).batches().get(0));
        RecordBatch b2 = batch(produces().get(1).batches().get(0));
        assertEquals(PID, b1.producerId());
        assertEquals(0, b1.producerEpoch());
        assertEquals(0, b1.baseSequence());
        assertEquals(1, b2.baseSequence());
        assertTrue(b1.isCrcValid() && b2.isCrcValid(), "the stamp recomputes the CRC");
        assertEquals(-1, produces().get(0).produce().acks, "acks=all");

        transport.respond(NODE, answer(0, 0, 100));
        transport.respond(NODE, answer(0, 0, 101));
        step(0);
        assertEquals(new RecordMetadata(TOPIC, 0, 100, now), f1.get());
        assertEquals(101, f2.get().offset());
        assertEquals(2, metrics.recordsSent());
        assertEquals(0, accumulator.pool().usedMemory(), "buffers returned to the pool");
    }

    @Test
    void shouldRetryInOrderWithTheSameBytesAfterALostResponse() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        byte[] first1 = produces().get(0).batches().get(0);
        byte[] first2 = produces().get(1).batches().get(0);

        transport.dropConnection(NODE);
        step(0);
        // A lost connection is no sign of a failing server: retried as soon as a connection is ready, without
        // retry.backoff.ms (the reconnect backoff paces the connections).
        assertEquals(4, produces().size(), "both retried at once, pipelined, in sequence order");
        assertArrayEquals(first1, produces().get(2).batches().get(0), "a retry sends the same bytes");
        assertArrayEquals(first2, produces().get(3).batches().get(0));
        assertEquals(2, metrics.batchesRetried());

        transport.respond(NODE, answer(0, 0, 7));
        transport.respond(NODE, answer(0, 0, 8));
        step(0);
        assertEquals(7, f1.get().offset());
        assertEquals(8, f2.get().offset());
    }

    @Test
    void shouldCompleteADuplicateWithTheOriginalOffset() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        // The server appended the batch at offset 500, but the answer is lost with the connection.
        transport.dropConnection(NODE);
        step(0);
        step(10);
        assertEquals(2, produces().size());
        // The retry is recognised as a duplicate: NONE with the ORIGINAL offset.
        transport.respond(NODE, answer(0, 0, 500));
        step(0);
        assertEquals(500, f.get().offset());
        assertEquals(1, metrics.recordsSent());
    }

    @Test
    void shouldTreatDuplicateSequenceNumberAsSuccessWithoutOffset() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        transport.respond(NODE, answer(0, 46, -1));
        step(0);
        assertEquals(-1, f.get().offset());
    }

    @Test
    void shouldKeepAtMostFiveRequestsInFlightPerConnection() throws Exception {
        start(config());
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            futures.add(append(i % 2));
            step(0);
        }
        assertEquals(5, transport.inFlight(NODE));
        assertEquals(5, metrics.requestsInFlight());
        assertEquals(5, produces().size());
        transport.respond(NODE, answer(0, 0, 0));
        step(0);
        assertEquals(5, transport.inFlight(NODE), "one answered, one more sent");
        assertEquals(6, produces().size());
        assertTrue(futures.get(0).isDone());
    }

    @Test
    void shouldPutOneBatchPerPartitionInARequest() throws Exception {
        start(config().maxInFlightRequestsPerConnection(1));
        append(0);
        step(0);
        append(0);
        append(1);
        transport.respond(NODE, answer(0, 0, 0));
        step(0);
        MockTransport.Sent second = MockTransport.last(produces());
        assertEquals(2, second.produce().partitionCount(), "partition 0 and partition 1, one batch each");
    }

    @Test
    void shouldRetryOutOfOrderBehindAnEarlierFailedBatch() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        byte[] first2 = produces().get(1).batches().get(0);
        // The leader moved: B1 fails retriably, so B2 arrives with a gap before it.
        transport.respond(NODE, answer(0, 6, -1));
        transport.respond(NODE, answer(0, 45, -1));
        step(0);
        assertFalse(f2.isDone(), "OUT_OF_ORDER after an earlier failure is retried");
        step(10);
        assertEquals(4, produces().size());
        assertEquals(0, batch(produces().get(2).batches().get(0)).baseSequence(), "B1 goes first");
        assertArrayEquals(first2, produces().get(3).batches().get(0), "then B2, same bytes");
        transport.respond(NODE, answer(0, 0, 10));
        transport.respond(NODE, answer(0, 0, 11));
        step(0);
        assertEquals(10, f1.get().offset());
        assertEquals(11, f2.get().offset());
        assertEquals(0, metrics.epochBumps());
        assertEquals(1, transport.sent(ApiKey.METADATA).size(), "NOT_LEADER_OR_FOLLOWER asks for metadata");
    }

    @Test
    void shouldBumpTheEpochAfterAnUnresolvedSequenceWithoutResendingOrRestamping() throws Exception {
        // One request in flight, so that B2 is never sent before B1's fate is settled.
        start(config().maxInFlightRequestsPerConnection(1).requestTimeoutMs(1000).deliveryTimeoutMs(1500));
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        byte[] b1 = produces().get(0).batches().get(0);

        step(1000); // t=1000: B1's request times out: the connection is closed, B1 will be retried
        assertEquals(List.of(NODE), transport.disconnectsBySender);
        step(10); // t=1010: retried with the same stamp
        assertEquals(2, produces().size());
        assertArrayEquals(b1, produces().get(1).batches().get(0));

        step(490); // t=1500: B1's delivery timeout passes while its retry is in flight: fate unknown
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f1::get);
        ProducerTimeoutException timeout = assertInstanceOf(ProducerTimeoutException.class, e.getCause());
        assertTrue(timeout.mayHaveBeenWritten());
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        assertEquals(2, produces().size(), "B2 waits behind B1");
        assertEquals(0, metrics.epochBumps(), "no bump while B1 is still in flight");

        step(510); // t=2010: the retry's request times out too: B1 is dead, its sequence unresolved
        assertEquals(1, metrics.epochBumps(), "nothing in flight: bump the epoch");
        assertEquals(3, produces().size(), "B2 goes out at once under the new epoch");
        RecordBatch sentB2 = batch(produces().get(2).batches().get(0));
        assertEquals(1, sentB2.producerEpoch());
        assertEquals(0, sentB2.baseSequence());
        assertEquals(PID, sentB2.producerId());
        for (MockTransport.Sent s : produces().subList(0, 2)) {
            assertArrayEquals(b1, s.batches().get(0), "B1 was never re-stamped");
        }
        transport.respond(NODE, answer(0, 0, 3));
        step(0);
        assertEquals(3, f2.get().offset());
        assertEquals(3, produces().size(), "B1 is never sent again");
    }

    /** B1 and B2 both sent and both unanswered; B1 expires in flight; B2 keeps living. */
    private CompletableFuture<RecordMetadata> sendTwoAndLetTheFirstDie() throws Exception {
        start(config().requestTimeoutMs(1000).deliveryTimeoutMs(1500));
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0); // t=0: B1 sent
        step(600);
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0); // t=600: B2 pipelined behind B1: both may end up in the log
        assertEquals(1, batch(produces().get(1).batches().get(0)).baseSequence());
        step(400); // t=1000: B1's request times out; both are retriable
        step(10); // t=1010: both resent, B1 then B2
        assertEquals(4, produces().size());
        step(490); // t=1500: B1 expires in flight
        assertTrue(f1.isCompletedExceptionally());
        assertFalse(f2.isDone());
        step(510); // t=2010: the retries time out: B1 is dead (unresolved); B2 (deadline 2100) is retriable
        return f2;
    }

    @Test
    void shouldNeverRestampABatchThatWasSentBeforeTheEpochBump() throws Exception {
        CompletableFuture<RecordMetadata> f2 = sendTwoAndLetTheFirstDie();
        byte[] b2 = produces().get(1).batches().get(0);
        CompletableFuture<RecordMetadata> f3 = append(0);
        step(10); // t=2020
        // B2 is retried under its ORIGINAL stamp (epoch 0, sequence 1), never re-stamped, while B3 waits.
        assertEquals(5, produces().size());
        assertArrayEquals(b2, produces().get(4).batches().get(0));
        assertEquals(0, metrics.epochBumps());
        // The server has no B1: B2 is out of order and nothing can fill the gap any more.
        transport.respond(NODE, answer(0, 45, -1));
        step(0);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f2::get);
        assertInstanceOf(ProduceFailedException.class, e.getCause());
        assertEquals(1, metrics.epochBumps());
        assertEquals(6, produces().size());
        RecordBatch b3 = batch(produces().get(5).batches().get(0));
        assertEquals(1, b3.producerEpoch(), "only the never-sent B3 carries the new epoch");
        assertEquals(0, b3.baseSequence());
        for (MockTransport.Sent s : produces().subList(0, 5)) {
            assertEquals(0, batch(s.batches().get(0)).producerEpoch(), "sent batches keep epoch 0");
        }
        transport.respond(NODE, answer(0, 0, 9));
        step(0);
        assertEquals(9, f3.get().offset());
    }

    @Test
    void shouldResolveAnExpiredSequenceWhenALaterBatchIsAcknowledged() throws Exception {
        CompletableFuture<RecordMetadata> f2 = sendTwoAndLetTheFirstDie();
        step(10); // B2 retried with its stamp
        // B1 was in the log after all: B2 is accepted in sequence, which proves it. No bump needed.
        transport.respond(NODE, answer(0, 0, 21));
        step(0);
        assertEquals(21, f2.get().offset());
        append(0);
        step(0);
        RecordBatch b3 = batch(MockTransport.last(produces()).batches().get(0));
        assertEquals(0, b3.producerEpoch());
        assertEquals(2, b3.baseSequence());
        assertEquals(0, metrics.epochBumps());
    }

    @Test
    void shouldFailEverythingOnInvalidProducerEpoch() throws Exception {
        start(config().maxInFlightRequestsPerConnection(1));
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(1);
        transport.respond(NODE, answer(0, 47, -1));
        step(0);
        ExecutionException e1 = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f1::get);
        FatalProducerException fatal = assertInstanceOf(FatalProducerException.class, e1.getCause());
        assertEquals(47, fatal.errorCode());
        ExecutionException e2 = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f2::get);
        assertEquals(fatal, e2.getCause(), "pending records get the same fatal error");
        assertNotNull(sender.fatalError(), "later sends see it too");
        assertEquals(0, accumulator.pool().usedMemory());
    }

    @Test
    void shouldFailEverythingOnAuthorizationErrors() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        transport.respond(NODE, answer(0, 29, -1));
        step(0);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(FatalProducerException.class, e.getCause());
    }

    @Test
    void shouldFailABatchTheServerRejectsForGoodAndContinueUnderANewEpoch() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        transport.respond(NODE, answer(0, 10, -1)); // MESSAGE_TOO_LARGE
        step(0);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f1::get);
        ProduceFailedException failed = assertInstanceOf(ProduceFailedException.class, e.getCause());
        assertFalse(failed.mayHaveBeenWritten());
        assertEquals(1, metrics.errors(10));
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        RecordBatch b2 = batch(MockTransport.last(produces()).batches().get(0));
        assertEquals(1, b2.producerEpoch(), "the rejected sequence would be a gap: new epoch");
        assertEquals(0, b2.baseSequence());
        transport.respond(NODE, answer(0, 0, 1));
        step(0);
        assertEquals(1, f2.get().offset());
    }

    @Test
    void shouldAskForANewProducerIdWhenTheEpochIsExhausted() throws Exception {
        start(config(), Short.MAX_VALUE);
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        assertEquals(Short.MAX_VALUE, batch(produces().get(0).batches().get(0)).producerEpoch());
        transport.respond(NODE, answer(0, 10, -1)); // a definite failure leaves a gap at the last epoch
        step(0);
        step(0);
        assertTrue(f.isCompletedExceptionally());
        List<MockTransport.Sent> inits = transport.sent(ApiKey.INIT_PRODUCER_ID);
        assertEquals(2, inits.size(), "a new InitProducerId instead of an epoch bump");
        transport.respond(NODE, initProducerId(43L, (short) 0));
        step(0);
        CompletableFuture<RecordMetadata> g = append(0);
        step(0);
        RecordBatch b = batch(MockTransport.last(produces()).batches().get(0));
        assertEquals(43L, b.producerId());
        assertEquals(0, b.producerEpoch());
        assertEquals(0, b.baseSequence());
        assertEquals(0, metrics.epochBumps());
        assertFalse(g.isDone());
    }

    @Test
    void shouldRetryPlainlyWithoutIdempotence() throws Exception {
        start(config().idempotence(false).acks(ProducerConfig.Acks.LEADER));
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        transport.dropConnection(NODE);
        step(0);
        step(10);
        assertEquals(2, produces().size());
        RecordBatch b = batch(produces().get(1).batches().get(0));
        assertEquals(-1L, b.producerId(), "no producer id: a retry after a lost answer can duplicate");
        assertEquals(-1, b.baseSequence());
        assertEquals(1, produces().get(1).produce().acks);
        assertArrayEquals(produces().get(0).batches().get(0), produces().get(1).batches().get(0));
        transport.respond(NODE, answer(0, 0, 4));
        step(0);
        assertEquals(4, f.get().offset());
        assertEquals(0, transport.sent(ApiKey.INIT_PRODUCER_ID).size());
    }

    @Test
    void shouldFailABatchAfterRetriesRetriesNamingTheProperty() throws Exception {
        // retries=2: three sends, each answered REQUEST_TIMED_OUT (retriable), then the batch fails, long before
        // delivery.timeout.ms (5 s; 30 ms pass here)
        start(config().retries(2));
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        for (int attempt = 1; attempt <= 3; attempt++) {
            assertEquals(attempt, produces().size());
            assertFalse(f.isDone(), "failed after " + attempt + " attempt(s)");
            transport.respond(NODE, answer(0, 7, -1)); // REQUEST_TIMED_OUT
            step(0);
            step(10);
        }
        assertEquals(3, produces().size(), "no fourth send");
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        ProduceFailedException cause = assertInstanceOf(ProduceFailedException.class, e.getCause());
        assertTrue(cause.getMessage().contains("retries=2"), cause.getMessage());
        assertEquals(7, cause.errorCode());
    }

    @Test
    void shouldKeepRetryingWithTheDefaultRetries() throws Exception {
        // the control: the same answers with retries unset go on being retried (delivery.timeout.ms decides)
        start(config());
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        for (int attempt = 1; attempt <= 6; attempt++) {
            transport.respond(NODE, answer(0, 7, -1));
            step(0);
            step(10);
        }
        assertEquals(7, produces().size());
        assertFalse(f.isDone());
        transport.respond(NODE, answer(0, 0, 9));
        step(0);
        assertEquals(9, f.get().offset());
    }

    @Test
    void shouldExpireABatchThatWasNeverSentAsNotWritten() throws Exception {
        start(config().deliveryTimeoutMs(1500));
        transport.setReady(NODE, false);
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        step(1500);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        ProducerException pe = assertInstanceOf(ProducerTimeoutException.class, e.getCause());
        assertFalse(pe.mayHaveBeenWritten());
        assertEquals(0, metrics.epochBumps(), "a never-sent batch has no sequence: no gap");
    }

    @Test
    void shouldRefreshMetadataAndFollowTheNewLeader() throws Exception {
        start(config().metadataMaxAgeMs(60_000));
        transport.metadataAnswer = () -> metadataAnswer(1);
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        transport.respond(NODE, answer(0, 6, -1)); // NOT_LEADER_OR_FOLLOWER
        step(0);
        MockTransport.Sent md = MockTransport.last(transport.sent(ApiKey.METADATA));
        assertTrue(((MetadataRequest) md.body()).topics.contains(TOPIC));
        step(10);
        MockTransport.Sent retry = MockTransport.last(produces());
        assertEquals(1, retry.nodeId(), "retried at the new leader");
        transport.respond(1, answer(0, 0, 33));
        step(0);
        assertEquals(33, f.get().offset());
        assertTrue(metrics.metadataRefreshes() >= 1);
    }

    @Test
    void shouldCompleteAcksZeroOnWrite() throws Exception {
        start(config().idempotence(false).acks(ProducerConfig.Acks.NONE));
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        step(0);
        assertEquals(-1, f.get().offset());
        assertEquals(0, accumulator.pool().usedMemory());
    }

    @Test
    void shouldSendEveryBatchWithTheSameBytesItWasFirstSentWith() throws Exception {
        // A small seeded soak: random drops and errors, checking that each batch's bytes never change.
        start(config().deliveryTimeoutMs(60_000));
        java.util.Random random = new java.util.Random(7);
        java.util.Map<Integer, byte[]> firstBytesBySequence = new java.util.HashMap<>();
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        long offset = 0;
        for (int round = 0; round < 300; round++) {
            if (random.nextInt(3) == 0 && futures.size() < 200) {
                futures.add(append(0));
            }
            step(random.nextInt(3) == 0 ? 10 : 0);
            for (MockTransport.Sent s : produces()) {
                byte[] bytes = s.batches().get(0);
                byte[] first = firstBytesBySequence.putIfAbsent(batch(bytes).baseSequence(), bytes);
                assertTrue(first == null || Arrays.equals(first, bytes), "batch bytes changed on a retry");
            }
            MockTransport.Sent head = transport.peek(NODE);
            if (head == null || head.api() != ApiKey.PRODUCE) {
                continue;
            }
            int action = random.nextInt(10);
            if (action == 0) {
                transport.dropConnection(NODE);
            } else if (action == 1) {
                transport.respond(NODE, answer(0, 6, -1));
            } else if (action < 6) {
                transport.respond(NODE, answer(0, 0, offset));
                offset += 1;
            }
        }
        for (int i = 0; i < 200 && !futures.stream().allMatch(CompletableFuture::isDone); i++) {
            step(10);
            while (transport.peek(NODE) != null) {
                transport.respond(NODE, answer(0, 0, offset++));
            }
        }
        for (CompletableFuture<RecordMetadata> f : futures) {
            assertTrue(f.isDone());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Faults that cost little (docs/CLIENT.md): stall detection, lost answers, probes

    @Test
    void shouldGiveUpAStalledConnectionAtTheStallBoundAndResendAtOnce() throws Exception {
        start(config().stallTimeoutMs(50));
        warmUp(); // fast answers: the bound is the floor, stall.timeout.ms
        int sentBefore = produces().size();
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        byte[] b1 = produces().get(sentBefore).batches().get(0);
        step(49);
        assertEquals(List.of(), transport.disconnectsBySender, "not before the stall bound");
        step(1); // 50 ms
        assertEquals(List.of(NODE), transport.disconnectsBySender);
        assertEquals(1, metrics.stalledConnections());
        assertEquals(0, metrics.requestTimeouts());
        assertEquals(sentBefore + 2, produces().size(), "re-sent at once on the new connection");
        assertArrayEquals(b1, produces().get(sentBefore + 1).batches().get(0),
            "the same bytes: a duplicate if it was written");
        step(99);
        assertEquals(1, metrics.stalledConnections(), "the bound doubled after a stall");
        step(1);
        assertEquals(2, metrics.stalledConnections());
        assertEquals(sentBefore + 3, produces().size());
        transport.respond(NODE, answer(0, 0, 5));
        step(0);
        assertEquals(5, f1.get().offset());
        // Two stalls: the bound stays doubled twice (200 ms) after the answer, not back at the floor at once.
        CompletableFuture<RecordMetadata> f2 = append(0);
        step(0);
        step(199);
        assertEquals(2, metrics.stalledConnections(), "still 4x the floor after one answer");
        transport.respond(NODE, answer(0, 0, 6));
        step(0);
        assertEquals(6, f2.get().offset());
        // Each STALL_DECAY_ANSWERS answers without a stall halve it: after twice that many, undoubled again. The
        // 199 ms answer is the recent maximum now (decaying per answer), so the bound is 1.5 x it, not the floor.
        double recentMax = 199;
        for (int i = 0; i < 2 * Sender.STALL_DECAY_ANSWERS; i++) {
            append(0);
            step(0);
            transport.respond(NODE, answer(0, 0, 7 + i));
            step(0);
            recentMax -= recentMax / Sender.STALL_MAX_DECAY;
        }
        long bound = (long) Math.ceil(Sender.STALL_MAX_FACTOR * recentMax);
        assertTrue(bound > 50 && bound < 2 * 199, "undoubled, above the floor: " + bound);
        append(0);
        step(0);
        step(bound - 1);
        assertEquals(2, metrics.stalledConnections());
        step(1);
        assertEquals(3, metrics.stalledConnections(), "undoubled again");
    }

    /** Sender.STALL_MIN_SAMPLES answers of 1 ms each: enough samples for the stall bound to act. */
    private void warmUp() throws Exception {
        for (int i = 0; i < Sender.STALL_MIN_SAMPLES; i++) {
            CompletableFuture<RecordMetadata> f = append(0);
            step(0);
            answerAfter(1, 0, 1000 + i);
            assertTrue(f.isDone());
        }
    }

    /**
     * The oldest request in flight is answered {@code ms} after now; the sender runs at every millisecond in
     * between (so that a stall bound below {@code ms} would act) and once with the answer.
     */
    private void answerAfter(long ms, int partition, long offset) {
        for (long t = 1; t < ms; t++) {
            step(1);
        }
        now += ms > 0 ? 1 : 0;
        transport.respond(NODE, answer(partition, 0, offset));
        sender.runOnce(now);
    }

    @Test
    void shouldNotActOnTheStallBoundBeforeEnoughAnswersWereSeen() throws Exception {
        // The first answers of a producer (JIT, a topic just created) are no estimate of the next ones.
        start(config().stallTimeoutMs(50));
        append(0);
        step(0);
        for (int t = 0; t < 99; t++) {
            step(10);
        }
        assertEquals(0, metrics.stalledConnections(), "no stall bound without samples: request.timeout.ms");
        step(10);
        assertEquals(1, metrics.requestTimeouts());
        assertEquals(0, metrics.stalledConnections());
    }

    @Test
    void shouldAdaptTheStallBoundToTheAnswerLatency() throws Exception {
        start(config().stallTimeoutMs(50));
        for (int i = 0; i < Sender.STALL_MIN_SAMPLES + 8; i++) {
            append(0);
            step(0);
            answerAfter(100, 0, i); // every answer takes 100 ms
        }
        assertEquals(0, metrics.stalledConnections(), "100 ms answers are no stalls once they are the norm");
        append(0);
        step(0);
        answerAfter(150, 0, 99);
        assertEquals(0, metrics.stalledConnections(), "1.5x the usual latency is no stall");
        append(0);
        step(0);
        step(1000);
        assertEquals(1, metrics.requestTimeouts() + metrics.stalledConnections());
    }

    @Test
    void shouldCountTheWaitOfARequestQueuedBehindASlowOneFromWhenItReachedTheHead() throws Exception {
        // Two requests in flight; the first is answered late (45 ms, under the 50 ms floor), the second 30 ms
        // after that: 75 ms after its own send, but it could not be answered before the first (answers come in
        // request order). Counted from its send it would be a (false) stall.
        start(config().stallTimeoutMs(50));
        warmUp();
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(1);
        step(0);
        assertEquals(2, transport.unansweredCount(NODE));
        answerAfter(45, 0, 7);
        assertTrue(f1.isDone());
        answerAfter(30, 1, 8);
        assertEquals(8, f2.get().offset());
        assertEquals(0, metrics.stalledConnections());
        assertEquals(List.of(), transport.disconnectsBySender);
    }

    @Test
    void shouldNotGiveUpAHealthyButJitteryConnectionAndStillCatchAStalledOne() throws Exception {
        // A pipelined connection whose answers mostly take 1-5 ms with a long tail: one answer in 40 takes
        // 40-48 ms and one in 200 (a slow fsync) 56 ms, past the 50 ms floor, with the request behind each
        // answered 1-5 ms after it. Before the fix both kinds were stalls: the request behind counted from its
        // send (45 + 5 > 50), the 56 ms answer above the floor.
        start(config().stallTimeoutMs(50).requestTimeoutMs(1000));
        java.util.Random random = new java.util.Random(14);
        long offset = 0;
        // Warm-up with ordinary answers, then the tail. Every 56 ms answer comes after the recent maximum learned
        // a 40-48 ms one (1.5 x 40 x the decay > 56).
        for (int i = 0; i < 2000; i++) {
            append(0);
            step(0);
            append(1);
            step(0);
            long first;
            if (i >= Sender.STALL_MIN_SAMPLES && i % 200 == 150) {
                first = 56;
            } else if (i >= Sender.STALL_MIN_SAMPLES && i % 40 == 7) {
                first = 40 + random.nextInt(9);
            } else {
                first = 1 + random.nextInt(5);
            }
            answerAfter(first, 0, offset++);
            answerAfter(1 + random.nextInt(5), 1, offset++);
        }
        assertEquals(0, metrics.stalledConnections(), "a healthy connection is not given up");
        assertEquals(0, metrics.requestTimeouts());
        // The same connection then stalls: an answer held back (the fault proxy's delayed response).
        CompletableFuture<RecordMetadata> held = append(0);
        step(0);
        long sentAt = now;
        for (int t = 0; t < 200 && metrics.stalledConnections() == 0; t++) {
            step(1);
        }
        assertEquals(1, metrics.stalledConnections(), "a stalled connection is given up");
        assertTrue(now - sentAt <= 100, "at the bound the recent latencies set (1.5 x 56 ms at most), not at the "
            + "request timeout (1000 ms): " + (now - sentAt) + " ms");
        assertEquals(0, metrics.requestTimeouts());
        assertFalse(held.isDone(), "re-sent, not failed");
    }

    @Test
    void shouldNotTakeItsOwnPauseForAStalledConnection() throws Exception {
        // The sender's thread is paused (a GC pause of the process, which in the fault benchmark also hosts the
        // proxy) for 300 ms while a request is in flight; the server answered in time, but the answer is read only
        // after the pause. The run that comes 250 ms after the 50 ms bound must not give the connection up: before
        // the fix it did (the harness's 100-3000 ms GC pauses were counted as false stalls).
        start(config().stallTimeoutMs(50).requestTimeoutMs(1000));
        warmUp();
        CompletableFuture<RecordMetadata> f = append(0);
        step(0);
        step(300);
        assertEquals(List.of(), transport.disconnectsBySender, "a late run does not give the connection up");
        assertEquals(0, metrics.stalledConnections());
        transport.respond(NODE, answer(0, 0, 42));
        step(1);
        assertEquals(42, f.get().offset());
        assertEquals(0, metrics.stalledConnections());
        assertEquals(0, metrics.requestTimeouts());

        // The same pause with no answer at all: the stall is still caught, by the first run that comes on time
        // after the network had as long as the pause (at most the stall bound), well before the request timeout.
        append(0);
        step(0);
        long sentAt = now;
        step(300);
        assertEquals(0, metrics.stalledConnections());
        for (int t = 0; t < 1000 && metrics.stalledConnections() == 0; t++) {
            step(1);
        }
        assertEquals(1, metrics.stalledConnections(), "a stalled connection is still given up");
        assertEquals(0, metrics.requestTimeouts());
        // The first answer's 301 ms (our pause included) is the recent maximum now: the bound is 1.5 x it.
        assertTrue(now - sentAt <= 300 + 460, "within the bound after the pause: " + (now - sentAt) + " ms");
        // (A run that comes on time still acts at the bound itself: shouldGiveUpAStalledConnectionAtTheStallBound.)
    }

    @Test
    void controlWithoutStallDetectionTheRequestTimeoutIsWaitedFor() throws Exception {
        start(config().stallTimeoutMs(0));
        append(0);
        step(0);
        step(999);
        assertEquals(List.of(), transport.disconnectsBySender);
        step(1);
        assertEquals(List.of(NODE), transport.disconnectsBySender);
        assertEquals(1, metrics.requestTimeouts());
        assertEquals(0, metrics.stalledConnections());
    }

    @Test
    void shouldNotDetectStallsWithoutIdempotence() throws Exception {
        // A re-send without idempotence would store the records twice: wait the full request timeout.
        start(config().idempotence(false).stallTimeoutMs(50));
        append(0);
        step(0);
        step(999);
        assertEquals(List.of(), transport.disconnectsBySender);
        step(1);
        assertEquals(1, metrics.requestTimeouts());
        assertEquals(0, metrics.stalledConnections());
    }

    @Test
    void shouldResendABatchWhoseAnswerWasLostAtOnceOnTheSameConnection() throws Exception {
        start(config());
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        CompletableFuture<RecordMetadata> f2 = append(1);
        step(0);
        byte[] b1 = produces().get(0).batches().get(0);
        transport.loseAnswer(NODE);
        transport.respond(NODE, answer(1, 0, 3));
        step(0);
        assertEquals(3, f2.get().offset());
        assertEquals(1, metrics.answersLost());
        assertEquals(List.of(), transport.disconnectsBySender, "the connection is kept");
        assertEquals(3, produces().size(), "re-sent at once, without retry.backoff.ms");
        assertArrayEquals(b1, produces().get(2).batches().get(0));
        transport.respond(NODE, answer(0, 0, 2)); // the server's duplicate answer: the original offset
        step(0);
        assertEquals(2, f1.get().offset());
    }

    @Test
    void shouldProbeAQuietConnectionOnceAndLearnOfALostLastAnswer() throws Exception {
        start(config().answerProbeMs(100));
        CompletableFuture<RecordMetadata> f1 = append(0);
        step(0);
        step(99);
        assertEquals(0, metrics.probesSent());
        step(1);
        assertEquals(1, metrics.probesSent());
        MockTransport.Sent probe = MockTransport.last(transport.sent(ApiKey.METADATA));
        assertEquals(List.of(), ((io.idemlog.common.protocol.message.MetadataRequest) probe.body()).topics,
            "a probe asks for no topic");
        for (int t = 0; t < 5; t++) {
            step(100);
        }
        assertEquals(1, metrics.probesSent(), "one probe in flight per connection");
        // The Produce answer was lost; the probe's answer comes: the transport reports the loss first.
        transport.loseAnswer(NODE);
        step(0); // the probe, now at the head, is answered (step answers Metadata at the head)
        assertEquals(1, metrics.answersLost());
        assertEquals(2, produces().size(), "re-sent at once");
        transport.respond(NODE, answer(0, 0, 4));
        step(0);
        assertEquals(4, f1.get().offset());
        assertEquals(0, metrics.requestTimeouts());
        step(1000);
        assertEquals(1, metrics.probesSent(), "nothing in flight: no probe");
    }

    @Test
    void shouldAskToRunAgainWhenARequestJustSentTimesOut() throws Exception {
        // The last request sent, with nothing after it: the step that sent it must ask to run at its timeout, or
        // a lost last answer waits until something else wakes the sender (LostAnswerRecoveryTest's control hung).
        start(config());
        append(0);
        long next = sender.runOnce(now);
        assertEquals(1, produces().size());
        assertEquals(now + 1000, next, "woken at request.timeout.ms");
        start(config().stallTimeoutMs(50));
        warmUp();
        append(0);
        next = sender.runOnce(now);
        assertEquals(now + 50, next, "woken at the stall bound");
    }
}
