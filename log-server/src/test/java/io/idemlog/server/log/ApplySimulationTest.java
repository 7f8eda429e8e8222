package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The seeded state-machine simulation (docs/REPLICATION.md section 8 item 4), without Ratis: apply must be a pure
 * function of the committed log.
 *
 * <p>A generator of produce streams (several idempotent producers with epoch bumps, zombie sends of a fenced epoch,
 * sequence gaps, retries, a non-idempotent producer, de-duplication keys repeated across producers) feeds a model of
 * a Raft log: the leader receives the clients' PROPOSALS in any order, clients re-send them (duplicates, also of
 * proposals already committed), a leader change truncates the uncommitted tail (its proposals go back to the clients,
 * who may re-send them) and bumps the term, each leader stamps its own (skewed, non-monotonic across leaders) clock,
 * and the leader proposes Tick entries (producer and key expiry). Only the stateless checks run on the leader
 * ({@link ProduceBatchCheck}, as {@code startTransaction} will); everything else is {@link PartitionApplier#apply}.
 *
 * <p>The committed log is then applied on N fresh appliers (fresh directories, each with a different server clock,
 * which apply must not read) and must give identical answers, identical segment files, producer state, key window
 * and leader epochs. A restore from snapshot points (replica 0's files at that point plus state snapshots, opened by
 * {@link PartitionLoader}) followed by a replay of the rest must give the same. And against a model of the log:
 * every duplicate is answered with the original's offsets, a retry that must be a duplicate is one, nothing is
 * appended twice unless its producer may have expired in between, every stored batch carries its entry's term, the
 * epoch cache holds each term's first offset, and LogAppendTime is the entry's time.
 *
 * <p>The seed is in the test name and in every failure; {@code -Didemlog.sim.seed=N} replays one seed,
 * {@code -Didemlog.sim.seeds=COUNT} (and {@code -Didemlog.sim.firstSeed=N}) runs more (default 24 seeds).
 */
class ApplySimulationTest {
    static final String TOPIC = "sim";
    static final String HEADER = "event-id";
    static final int REPLICAS = 3;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        String one = System.getProperty("idemlog.sim.seed");
        if (one != null && !one.isBlank()) {
            return LongStream.of(Long.parseLong(one.trim()));
        }
        long first = Long.getLong("idemlog.sim.firstSeed", 1L);
        return LongStream.range(first, first + Integer.getInteger("idemlog.sim.seeds", 24));
    }

    /** One entry of the committed log: a batch (its bytes as proposed) or a Tick, with the leader's time and term. */
    record Entry(boolean tick, long timeMs, int term, Attempt attempt) {
    }

    /** A batch as a client built it: re-sends carry exactly these bytes. */
    record Attempt(int id, long producerId, short epoch, int baseSequence, int count, byte[] bytes) {
        boolean idempotent() {
            return producerId >= 0;
        }
    }

    /** What apply answered, in a comparable form. */
    record Answer(ErrorCode error, long base, long last, boolean duplicate, long logAppendTime, String repeats) {
        static Answer of(AppendResult r) {
            return new Answer(r.error(), r.baseOffset(), r.lastOffset(), r.duplicate(), r.logAppendTime(),
                Arrays.toString(r.repeats()));
        }
    }

    /** A replica's final state, in comparable form. */
    record State(Map<String, String> files, String producers, String keys, String epochs, long logEnd) {
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void committedLogAppliesIdenticallyEverywhere(long seed) throws Exception {
        try {
            run(seed);
        } catch (AssertionError | Exception e) {
            throw new AssertionError("seed " + seed + " (replay: -Didemlog.sim.seed=" + seed + "): "
                + e.getMessage(), e);
        }
    }

    private void run(long seed) throws Exception {
        Random rnd = new Random(seed);
        TestConfig tc = new TestConfig();
        tc.segmentBytes = 2_000 + rnd.nextInt(6_000);
        tc.segmentMs = Long.MAX_VALUE / 4; // rolls by size only: a restored segment's roll age is the loader's
        tc.indexIntervalBytes = 256;
        tc.producerIdExpirationMs = 2_000 + rnd.nextInt(20_000);
        tc.logAppendTime = rnd.nextBoolean();
        tc.dedup = rnd.nextBoolean() ? new DedupConfig(HEADER, 1_000 + rnd.nextInt(10_000), 64 + rnd.nextInt(64))
            : DedupConfig.OFF;
        LogConfig config = tc.build();
        List<Entry> log = generate(rnd, config);

        // N fresh appliers.
        List<List<Answer>> answers = new ArrayList<>();
        List<State> states = new ArrayList<>();
        List<PartitionLog> replicas = new ArrayList<>();
        for (int r = 0; r < REPLICAS; r++) {
            PartitionLog p = open(tmp.resolve("replica-" + r), config, 1_800_000_000_000L + r * 7_777_777L);
            replicas.add(p);
            List<Answer> a = new ArrayList<>();
            for (Entry e : log) {
                a.add(apply(p, e, config));
            }
            answers.add(a);
            states.add(state(p));
        }
        for (int r = 1; r < REPLICAS; r++) {
            assertAnswersEqual(answers.get(0), answers.get(r), 0, "replica " + r);
            assertStateEqual(states.get(0), states.get(r), "replica " + r);
        }
        String summary = checkModel(log, answers.get(0), config, replicas.get(0));
        for (PartitionLog p : replicas) {
            p.close();
        }

        // Restore from snapshot points and replay the rest.
        int points = 3;
        for (int s = 0; s < points; s++) {
            int at = rnd.nextInt(log.size() + 1);
            PartitionLog source = open(tmp.resolve("source-" + s), config, 1_900_000_000_000L);
            for (int i = 0; i < at; i++) {
                apply(source, log.get(i), config);
            }
            Path snapDir = snapshot(source, tmp.resolve("snapshot-" + s));
            source.close();
            PartitionLog restored = load(snapDir, config, 2_000_000_000_000L + s);
            List<Answer> rest = new ArrayList<>();
            for (int i = at; i < log.size(); i++) {
                rest.add(apply(restored, log.get(i), config));
            }
            assertAnswersEqual(answers.get(0).subList(at, log.size()), rest, at, "restored at entry " + at);
            assertStateEqual(states.get(0), state(restored), "restored at entry " + at);
            restored.close();
        }
        // Crash and restart as a cluster replica does (ReplicaStorage, the state machine's path): manifests taken at
        // random entries, more entries applied after the last one, the files left as a kill -9 leaves them, the
        // directory cut to a manifest (the newest; or the one before it, as when the newest's file is damaged) and
        // every entry after that manifest replayed.
        for (int c = 0; c < 3; c++) {
            crashRestart(rnd, log, config, answers.get(0), states.get(0), c);
        }
        System.out.println("seed " + seed + ": " + summary + ", " + states.get(0).files().size() + " segments, "
            + "dedup " + config.dedup().enabled() + ", LogAppendTime " + config.logAppendTime());
    }

    private void crashRestart(Random rnd, List<Entry> log, LogConfig config, List<Answer> expected, State expectedState,
                              int c) throws IOException {
        Path dir = tmp.resolve("crash-" + c);
        CachedEpochClock clock = new CachedEpochClock();
        clock.update(2_100_000_000_000L + c * 3_333_333L);
        ReplicaStorage storage = new ReplicaStorage(config, clock, (p, hw) -> { });
        try {
            ReplicaStorage.Log replica = storage.open(TOPIC, 0, dir, config.dedup(), null, -1L);
            List<ReplicaStorage.Manifest> manifests = new ArrayList<>();
            List<Integer> points = new ArrayList<>(); // the entries applied when each manifest was taken
            int crashAt = rnd.nextInt(log.size() + 1);
            int every = 1 + rnd.nextInt(Math.max(1, crashAt / 2 + 1)); // a manifest every ~N entries
            for (int i = 0; i < crashAt; i++) {
                if (i > 0 && rnd.nextInt(every) == 0) {
                    manifests.add(replica.snapshot(i)); // the entry count stands for the Raft index
                    points.add(i);
                    // as the state machine does: the state files of the two newest manifests are kept
                    ReplicaStorage.retainStateFiles(dir, java.util.Set.copyOf(points.subList(Math.max(0,
                        points.size() - 2), points.size()).stream().map(Integer::longValue).toList()));
                }
                apply(replica, log.get(i));
            }
            ((PartitionLog) replica.partition()).abandon();
            int pick = manifests.size() - 1;
            if (pick > 0 && rnd.nextBoolean()) {
                pick--;
            }
            ReplicaStorage.Manifest m = pick < 0 ? null : manifests.get(pick);
            int from = pick < 0 ? 0 : points.get(pick);
            String who = "crashed after entry " + crashAt + ", restarted at the manifest of entry " + from + " ("
                + manifests.size() + " manifests)";
            ReplicaStorage.Log restarted = storage.open(TOPIC, 0, dir, config.dedup(), m, from);
            assertEquals(m == null ? 0L : m.logEndOffset(), restarted.logEndOffset(), who + ": log end after the cut");
            List<Answer> rest = new ArrayList<>();
            for (int i = from; i < log.size(); i++) {
                rest.add(apply(restarted, log.get(i)));
            }
            assertAnswersEqual(expected.subList(from, log.size()), rest, from, who);
            assertStateEqual(expectedState, state((PartitionLog) restarted.partition()), who);
            restarted.close();
        } finally {
            storage.close();
        }
    }

    /** The state machine's apply of one committed entry (PartitionStateMachine.applyTransaction's calls). */
    private static Answer apply(ReplicaStorage.Log replica, Entry e) {
        if (e.tick()) {
            replica.expire(e.timeMs());
            return null;
        }
        byte[] bytes = e.attempt().bytes();
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        AppendOutcome out = new AppendOutcome();
        replica.apply(buf, 0, bytes.length, e.timeMs(), e.term(), out);
        return Answer.of(out.toResult());
    }

    // ---- the generator and the Raft-log model ----

    private static final class Producer {
        final long id;
        short epoch;
        int nextSeq;
        /** The attempts of older epochs, kept for zombie sends. */
        final List<Attempt> old = new ArrayList<>();

        Producer(long id) {
            this.id = id;
        }
    }

    private List<Entry> generate(Random rnd, LogConfig config) {
        int producers = 2 + rnd.nextInt(5);
        List<Producer> clients = new ArrayList<>();
        for (int i = 0; i < producers; i++) {
            clients.add(new Producer(1_000 + i * 17L));
        }
        List<Attempt> inFlight = new ArrayList<>(); // what clients may (re-)send
        List<Entry> committed = new ArrayList<>();
        List<Entry> tail = new ArrayList<>(); // the leader's uncommitted entries
        int term = 1 + rnd.nextInt(3);
        long leaderClock = 1_700_000_000_000L + rnd.nextInt(1_000_000);
        int ids = 0;
        int steps = 400 + rnd.nextInt(600);
        int window = 2 + rnd.nextInt(4); // how far proposals overtake each other (the clients' in-flight requests)
        for (int step = 0; step < steps; step++) {
            leaderClock += rnd.nextInt(40);
            int action = rnd.nextInt(100);
            if (action < 30 || inFlight.isEmpty()) {
                inFlight.add(newAttempt(rnd, clients, ids++, config));
            } else if (action < 62) {
                // The leader receives one proposal, from whichever client gets there first among the oldest few
                // (reordering); the client may send it again later (a re-send: a duplicate proposal).
                int pick = rnd.nextInt(Math.min(window, inFlight.size()));
                Attempt a = inFlight.get(pick);
                if (rnd.nextInt(100) < 60) {
                    inFlight.remove(pick);
                }
                if (passesLeaderChecks(a, config)) {
                    tail.add(new Entry(false, leaderClock, term, a));
                }
            } else if (action < 82) {
                int n = tail.isEmpty() ? 0 : 1 + rnd.nextInt(tail.size());
                committed.addAll(tail.subList(0, n));
                tail.subList(0, n).clear();
            } else if (action < 88) {
                // Leader change: some of the tail may have been committed by the old leader, the rest is truncated;
                // its clients re-send (or not) what was lost. The new leader's clock is skewed either way.
                int n = tail.isEmpty() ? 0 : rnd.nextInt(tail.size() + 1);
                committed.addAll(tail.subList(0, n));
                int front = 0;
                for (Entry lost : tail.subList(n, tail.size())) {
                    if (lost.attempt() != null && rnd.nextInt(100) < 80) {
                        inFlight.add(front++, lost.attempt()); // retried first
                    }
                }
                tail.clear();
                term += 1 + rnd.nextInt(2);
                leaderClock += rnd.nextInt(4_000) - 2_000;
            } else if (action < 93) {
                tail.add(new Entry(true, leaderClock, term, null));
            } else if (action < 95) {
                // Time passes (producers and keys may expire at the next Tick).
                leaderClock += rnd.nextInt((int) Math.min(Integer.MAX_VALUE, 2 * config.producerIdExpirationMs()));
            } else {
                // A committed proposal re-sent by a client whose answer was lost.
                if (!committed.isEmpty()) {
                    Entry e = committed.get(rnd.nextInt(committed.size()));
                    if (e.attempt() != null) {
                        inFlight.add(e.attempt());
                    }
                }
            }
        }
        committed.addAll(tail);
        return committed;
    }

    private static boolean passesLeaderChecks(Attempt a, LogConfig config) {
        ByteBuffer buf = ByteBuffer.wrap(a.bytes());
        RecordBatch view = new RecordBatch(buf, 0);
        return ProduceBatchCheck.check(view, a.bytes().length, config.maxBatchBytes()) == ErrorCode.NONE;
    }

    private static Attempt newAttempt(Random rnd, List<Producer> clients, int id, LogConfig config) {
        int kind = rnd.nextInt(100);
        int count = 1 + rnd.nextInt(6);
        if (kind < 8) {
            return new Attempt(id, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
                count, build(rnd, id, RecordBatch.NO_PRODUCER_ID, (short) -1, RecordBatch.NO_SEQUENCE, count));
        }
        Producer p = clients.get(rnd.nextInt(clients.size()));
        if (kind < 12 && !p.old.isEmpty()) {
            return p.old.get(rnd.nextInt(p.old.size())); // a zombie of a fenced epoch
        }
        if (kind < 16) {
            p.epoch++;
            p.nextSeq = 0;
        }
        int seq = p.nextSeq;
        if (kind >= 16 && kind < 20) {
            seq += 1 + rnd.nextInt(3); // a gap
        }
        Attempt a = new Attempt(id, p.id, p.epoch, seq, count, build(rnd, id, p.id, p.epoch, seq, count));
        p.nextSeq = seq + count;
        p.old.add(a);
        if (p.old.size() > 30) {
            p.old.remove(0);
        }
        return a;
    }

    /** A batch with records whose de-dup key is drawn from a small space (repeats across producers). */
    private static byte[] build(Random rnd, int id, long producerId, short epoch, int seq, int count) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + count * 128 + 64);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < count; i++) {
            Header[] headers = rnd.nextInt(5) == 0 ? null
                : new Header[] {new Header(HEADER, ("k" + rnd.nextInt(40)).getBytes(StandardCharsets.UTF_8))};
            byte[] value = ("attempt-" + id + "-" + i).getBytes(StandardCharsets.UTF_8);
            if (!builder.tryAppend(1_000_000L + id * 10L + i, null, value, headers)) {
                throw new IllegalStateException("batch buffer too small");
            }
        }
        int size = builder.close();
        if (producerId >= 0) {
            new RecordBatch(buf, 0).stampProducerState(producerId, epoch, seq);
        }
        return Arrays.copyOf(buf.array(), size);
    }

    // ---- replicas ----

    private static PartitionLog open(Path dir, LogConfig config, long clockMs) throws IOException {
        Files.createDirectories(dir);
        return load(dir, config, clockMs);
    }

    private static PartitionLog load(Path dir, LogConfig config, long clockMs) throws IOException {
        CachedEpochClock clock = new CachedEpochClock();
        clock.update(clockMs);
        StorageMetrics metrics = new StorageMetrics();
        LogContext context = new LogContext(config, clock, StorageIo.DIRECT, new GroupCommitFlusher(metrics),
            new SegmentSealer(), (p, hw) -> { }, metrics, true);
        return PartitionLoader.load(TOPIC, 0, dir, context, config.dedup());
    }

    /** What a replica's state machine does with one committed entry: a fresh copy of its bytes, applied. */
    private static Answer apply(PartitionLog p, Entry e, LogConfig config) throws IOException {
        PartitionApplier applier = p.applier();
        if (e.tick()) {
            applier.expire(e.timeMs());
            return null;
        }
        byte[] bytes = e.attempt().bytes();
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        AppendOutcome out = new AppendOutcome();
        RecordBatch view = out.view(buf, 0);
        AppendResult rejected = applier.apply(view, buf, 0, bytes.length, e.timeMs(), e.term(), config, out);
        return Answer.of(rejected != null ? rejected : out.toResult());
    }

    private static State state(PartitionLog p) throws IOException {
        p.runPendingSeals();
        PartitionApplier a = p.applier();
        Map<String, String> files = new TreeMap<>();
        for (LogSegment s : p.segments()) {
            files.put(s.path().getFileName().toString(), digest(read(s.path(), s.size())));
        }
        Path epochFile = LeaderEpochFile.path(p.dir());
        byte[] epochBytes = Files.exists(epochFile) ? Files.readAllBytes(epochFile) : new byte[0];
        String epochs = a.epochs() + " file " + digest(epochBytes);
        assertArrayEquals(array(LeaderEpochFile.serialize(a.epochs())), epochBytes.length == 0
            ? array(LeaderEpochFile.serialize(new LeaderEpochCache())) : epochBytes, "the epoch file is the cache");
        String producers = digest(array(ProducerSnapshotFile.serialize(a.logEndOffset(), a.maxProducerId(),
            a.producers())));
        String keys = a.keys() == null ? "off" : a.keys().size() + " keys "
            + digest(array(KeyWindowFile.serialize(a.logEndOffset(), HEADER, a.keys())));
        return new State(files, producers, keys, epochs, a.logEndOffset());
    }

    /** Replica files at this point (segments as written, the epoch file) plus state snapshots at its log end. */
    private static Path snapshot(PartitionLog p, Path to) throws IOException {
        p.runPendingSeals();
        Files.createDirectories(to);
        for (LogSegment s : p.segments()) {
            Files.write(to.resolve(s.path().getFileName()), read(s.path(), s.size()));
        }
        Path epochFile = LeaderEpochFile.path(p.dir());
        if (Files.exists(epochFile)) {
            Files.copy(epochFile, LeaderEpochFile.path(to));
        }
        PartitionApplier a = p.applier();
        long end = a.logEndOffset();
        ProducerSnapshotFile.writeBytes(to, end, ProducerSnapshotFile.serialize(end, a.maxProducerId(),
            a.producers()));
        if (a.keys() != null) {
            KeyWindowFile.writeBytes(to, end, KeyWindowFile.serialize(end, HEADER, a.keys()));
        }
        return to;
    }

    // ---- checks ----

    private static void assertAnswersEqual(List<Answer> expected, List<Answer> actual, int from, String who) {
        assertEquals(expected.size(), actual.size(), who);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), who + ": the answer to entry " + (from + i));
        }
    }

    private static void assertStateEqual(State expected, State actual, String who) {
        assertEquals(expected.logEnd(), actual.logEnd(), who + ": log end");
        assertEquals(expected.files(), actual.files(), who + ": segment files");
        assertEquals(expected.producers(), actual.producers(), who + ": producer state");
        assertEquals(expected.keys(), actual.keys(), who + ": key window");
        assertEquals(expected.epochs(), actual.epochs(), who + ": leader epochs");
    }

    /** The answers against a model of the committed log. */
    private static String checkModel(List<Entry> log, List<Answer> answers, LogConfig config, PartitionLog p)
        throws IOException {
        long expiration = config.producerIdExpirationMs();
        Map<String, long[]> original = new HashMap<>(); // identity -> {base, last, index of the append}
        Map<Long, List<String>> appendedBy = new HashMap<>(); // producer -> identities appended, in order
        Map<Long, Short> epochOf = new HashMap<>();
        Map<Long, Long> lastWrite = new HashMap<>();
        Map<Long, Integer> termAt = new HashMap<>(); // base offset -> term of its entry
        Map<Integer, Long> firstOfTerm = new LinkedHashMap<>();
        Map<Long, Long> forgottenAt = new HashMap<>(); // producer -> the latest entry (a Tick) that may have expired it
        int duplicates = 0;
        int mustBeDuplicates = 0;
        for (int i = 0; i < log.size(); i++) {
            Entry e = log.get(i);
            if (e.tick()) {
                for (Map.Entry<Long, Long> w : lastWrite.entrySet()) {
                    if (e.timeMs() - w.getValue() >= expiration) {
                        forgottenAt.put(w.getKey(), (long) i);
                    }
                }
                continue;
            }
            Answer r = answers.get(i);
            Attempt a = e.attempt();
            String identity = a.producerId() + "/" + a.epoch() + "/" + a.baseSequence() + "/" + a.count();
            long[] orig = original.get(identity);
            if (a.idempotent() && orig != null) {
                List<String> after = appendedBy.get(a.producerId());
                int since = after.size() - 1 - after.lastIndexOf(identity);
                boolean mayBeForgotten = forgottenAt.getOrDefault(a.producerId(), -1L) > orig[2];
                if (!mayBeForgotten && since < 5 && epochOf.get(a.producerId()) == a.epoch()) {
                    mustBeDuplicates++;
                    assertTrue(r.duplicate(), "entry " + i + ": a re-send of " + identity + " (appended at "
                        + orig[0] + ", " + since + " batches ago) must be a duplicate, got " + r);
                }
            }
            if (r.duplicate()) {
                duplicates++;
                assertTrue(orig != null, "entry " + i + ": a duplicate of a batch never appended: " + r);
                assertEquals(orig[0], r.base(), "entry " + i + ": a duplicate answers the original base offset");
                assertEquals(orig[1], r.last(), "entry " + i + ": a duplicate answers the original last offset");
                assertEquals(ErrorCode.NONE, r.error());
                continue;
            }
            if (r.error() != ErrorCode.NONE) {
                continue;
            }
            if (a.idempotent() && orig != null) {
                assertTrue(forgottenAt.getOrDefault(a.producerId(), -1L) > orig[2], "entry " + i + ": "
                    + identity + " appended a second time (at " + r.base() + ", first at " + orig[0]
                    + ") although its producer cannot have expired");
            }
            assertEquals(a.count() - 1, r.last() - r.base(), "entry " + i + ": the batch keeps its offset range");
            if (config.logAppendTime()) {
                assertEquals(e.timeMs(), r.logAppendTime(), "entry " + i + ": LogAppendTime is the entry's time");
            }
            termAt.put(r.base(), e.term());
            firstOfTerm.putIfAbsent(e.term(), r.base());
            if (a.idempotent()) {
                original.put(identity, new long[] {r.base(), r.last(), i});
                appendedBy.computeIfAbsent(a.producerId(), k -> new ArrayList<>()).add(identity);
                epochOf.put(a.producerId(), a.epoch());
                lastWrite.put(a.producerId(), e.timeMs());
            }
        }
        // Every stored batch carries its entry's term; the epoch cache holds each term's first offset.
        Map<Long, Integer> stored = new TreeMap<>();
        for (LogSegment s : p.segments()) {
            ByteBuffer bytes = ByteBuffer.wrap(read(s.path(), s.size()));
            for (int pos = 0; pos < bytes.limit(); pos += new RecordBatch(bytes, pos).sizeInBytes()) {
                RecordBatch b = new RecordBatch(bytes, pos);
                stored.put(b.baseOffset(), b.partitionLeaderEpoch());
            }
        }
        assertEquals(new TreeMap<>(termAt), stored, "the stored batches and the terms of their entries");
        StringBuilder expected = new StringBuilder("[");
        for (Map.Entry<Integer, Long> t : firstOfTerm.entrySet()) {
            expected.append(expected.length() == 1 ? "" : ", ").append(t.getKey()).append('@').append(t.getValue());
        }
        assertEquals(expected.append(']').toString(), p.applier().epochs().toString(), "leader epochs");
        assertTrue(stored.size() > 10, "the log holds batches: " + stored.size());
        Map<ErrorCode, Integer> errors = new TreeMap<>();
        for (Answer r : answers) {
            if (r != null && r.error() != ErrorCode.NONE) {
                errors.merge(r.error(), 1, Integer::sum);
            }
        }
        long withRepeats = answers.stream().filter(r -> r != null && r.repeats() != null
            && !r.repeats().equals("null")).count();
        String summary = log.size() + " entries, " + stored.size() + " batches stored, " + duplicates
            + " duplicates (" + mustBeDuplicates + " required by the model), terms " + firstOfTerm.keySet()
            + ", rejected " + errors + ", " + withRepeats + " batches with de-dup repeats dropped";
        if (mustBeDuplicates == 0) {
            fail("the generated log re-sends nothing the model requires to be a duplicate: " + summary);
        }
        return summary;
    }

    private static byte[] read(Path file, int size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(size);
        try (FileChannel ch = FileChannel.open(file)) {
            while (buf.hasRemaining()) {
                if (ch.read(buf, buf.position()) < 0) {
                    throw new IOException(file + " is shorter than " + size);
                }
            }
        }
        return buf.array();
    }

    private static byte[] array(ByteBuffer b) {
        ByteBuffer d = b.duplicate().position(0);
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    private static String digest(byte[] bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes);
        return bytes.length + ":" + Long.toHexString(crc.getValue()) + ":" + Arrays.hashCode(bytes);
    }
}
