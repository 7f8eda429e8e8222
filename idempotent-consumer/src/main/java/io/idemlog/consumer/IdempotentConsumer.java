package io.idemlog.consumer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Wraps a kafka-clients {@link Consumer} so that each record's effect is applied once: before the handler runs, the
 * record's de-duplication {@linkplain KeyExtractor key} is inserted into a {@link ProcessedIdStore} in a transaction;
 * a key already there means the record is skipped; the transaction commits only after the handler returned.
 *
 * <p><b>Two modes.</b>
 * <ul>
 *   <li><b>Insert-first</b> ({@link #builder(Consumer, ProcessedIdStore, RecordHandler)}): the effect is outside the
 *       store's transaction, which stays open (its id row locked) while the handler runs and commits after it.
 *       Offsets are committed to Kafka after processing. Guarantees: no effect applied twice while the store
 *       remembers the id, except when the process dies (or the commit fails) between the end of the effect and the
 *       commit of the id: then the record is redelivered and the effect applied again. No record is skipped.</li>
 *   <li><b>Transactional</b> ({@link #builder(Consumer, JdbcProcessedIdStore, TransactionalHandler)}): the handler
 *       gets the store's JDBC transaction; the id, the effect and the consumer position (topic, partition, next
 *       offset) commit in one database transaction. On start and at every assignment the consumer seeks to the
 *       positions stored in the database, so Kafka's offset commits are not used at all. Guarantee: every record's
 *       effect exactly once, through crashes, rebalances and database outages, on any Kafka-protocol broker.</li>
 * </ul>
 *
 * <p><b>Failures.</b>
 * <ul>
 *   <li>The handler throws: the transaction rolls back (the id is not recorded), the partition goes back to the
 *       record and pauses for a back-off ({@link Builder#retryBackoff}), then the record is tried again, up to
 *       {@link Builder#maxAttempts}; after the last attempt it goes to the {@linkplain Builder#deadLetters dead-letter
 *       target} (its id and position are then recorded), or, without one, {@link #pollOnce} throws
 *       {@link PoisonRecordException} and the consumer stays on the record. Attempts are counted in this consumer's
 *       memory: a restart or rebalance starts the count again.</li>
 *   <li>The store fails ({@link StoreException}), or the handler's failure is a transient infrastructure failure
 *       (by default: a JDBC connection failure, SQLState class 08, or a refused/reset socket; or, in the
 *       transactional mode, a broken transaction connection): every partition goes back to its first unprocessed
 *       record and pauses for a back-off that grows to {@link Builder#storeBackoff}'s maximum; no attempt is
 *       counted, nothing is skipped, processing resumes when the store answers again.</li>
 *   <li>A record without a key (the extractor chain returned null): a poison record at once.</li>
 * </ul>
 *
 * <p><b>Threads.</b> Like the {@link Consumer} it wraps, it is used by one thread: {@link #pollOnce} (or {@link #run})
 * polls, runs the handler on that thread in offset order per partition, and commits. {@link #close()} may be called
 * from another thread to end {@link #run()}. Do not use the wrapped consumer directly while the wrapper owns it (no
 * pause, resume, seek or commit of your own): the wrapper's positions would be wrong.
 *
 * <p><b>Configure the wrapped consumer</b> with {@code enable.auto.commit=false} (the wrapper commits in the
 * insert-first mode, and must not have Kafka commit anything in the transactional mode). {@code max.poll.records}
 * times the handler's time must stay well under {@code max.poll.interval.ms}.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
public final class IdempotentConsumer<K, V> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdempotentConsumer.class);

    /** What processing one record came to. */
    private enum Outcome {
        /** Applied, or skipped as a duplicate, or dead-lettered: the partition moves past it. */
        DONE,
        /** The handler failed and has attempts left: back to this record after the partition's back-off. */
        RETRY_PARTITION,
        /** The store or the infrastructure failed: every partition back to its first unprocessed record. */
        STORE_DOWN,
        /** The handler failed its last attempt and there is no dead-letter target. */
        POISON
    }

    /** The consumer's life: one transition check, {@link #transition}. */
    private enum State {
        CREATED, SUBSCRIBED, CLOSED
    }

    private final Consumer<K, V> consumer;
    private final ProcessedIdStore store;
    private final JdbcProcessedIdStore jdbcStore;
    private final RecordHandler<K, V> handler;
    private final TransactionalHandler<K, V> txHandler;
    private final KeyExtractor<K, V> keys;
    private final String scope;
    private final int maxAttempts;
    private final Duration retryInitial;
    private final Duration retryMax;
    private final Duration storeInitial;
    private final Duration storeMax;
    private final DeadLetterPublisher<K, V> deadLetters;
    private final Predicate<Throwable> transientFailure;
    private final Clock clock;
    private final ConsumerMetrics metrics;
    private final Duration pollTimeout;
    /** Insert-first mode with a group.id: processed offsets are committed to Kafka (without a group they cannot be). */
    private final boolean kafkaCommits;
    /** Records per database transaction (transactional mode; 1 = one transaction per record, the default). */
    private final int maxRecordsPerTransaction;
    /** A batch commits once its records took this long (nanoseconds), even if it has fewer records. */
    private final long maxTransactionNanos;
    /** Batched mode: the owner epoch of each partition this consumer claimed at assignment. */
    private final Map<TopicPartition, Long> epochs = new HashMap<>();
    /** Batched mode: partitions another consumer claimed since this one did: paused until revoked or re-assigned. */
    private final Set<TopicPartition> fenced = new HashSet<>();

    /** Attempts so far of records that failed, by partition and offset. */
    private final Map<TopicPartition, Map<Long, Integer>> attempts = new HashMap<>();
    /** Partitions backing off after a handler failure, until (epoch ms). */
    private final Map<TopicPartition, Long> pausedUntil = new HashMap<>();
    /** Partitions (transactional mode) whose stored position is still to be read; they stay paused until then. */
    private final Set<TopicPartition> needPosition = new HashSet<>();
    /** Next offsets processed but not yet committed to Kafka (insert-first mode). */
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    private long storeDownUntil;
    private int storeFailuresInARow;
    /** The last failure of a record, for the PoisonRecordException. */
    private Throwable lastFailure;
    private volatile State state = State.CREATED;
    /** The thread inside {@link #run()}, if any. */
    private volatile Thread runner;

    private IdempotentConsumer(Builder<K, V> b) {
        this.consumer = b.consumer;
        this.store = b.store;
        this.jdbcStore = b.txHandler != null ? (JdbcProcessedIdStore) b.store : null;
        this.handler = b.handler;
        this.txHandler = b.txHandler;
        this.keys = b.keys;
        this.scope = b.scope;
        this.maxAttempts = b.maxAttempts;
        this.retryInitial = b.retryInitial;
        this.retryMax = b.retryMax;
        this.storeInitial = b.storeInitial;
        this.storeMax = b.storeMax;
        this.deadLetters = b.deadLetters;
        this.transientFailure = b.transientFailure;
        this.clock = b.clock;
        this.pollTimeout = b.pollTimeout;
        this.metrics = new ConsumerMetrics(b.registry, scope);
        this.kafkaCommits = b.txHandler == null && b.hasGroup;
        this.maxRecordsPerTransaction = b.maxRecordsPerTransaction;
        this.maxTransactionNanos = b.maxTransactionTime.toNanos();
    }

    private boolean batched() {
        return maxRecordsPerTransaction > 1;
    }

    /**
     * The insert-first mode: {@code handler}'s effect is outside the store; offsets are committed to Kafka.
     *
     * @param consumer a kafka-clients consumer with {@code enable.auto.commit=false}, not yet subscribed
     * @param store    the processed ids (memory or JDBC)
     * @param handler  the effect
     */
    public static <K, V> Builder<K, V> builder(Consumer<K, V> consumer, ProcessedIdStore store,
                                               RecordHandler<K, V> handler) {
        return new Builder<>(consumer, store, Objects.requireNonNull(handler, "handler"), null);
    }

    /**
     * The transactional mode: {@code handler} runs in the store's database transaction, which also records the id
     * and the position; positions come from the database.
     *
     * @param consumer a kafka-clients consumer with {@code enable.auto.commit=false}, not yet subscribed
     * @param store    the JDBC store whose database also holds the application's tables
     * @param handler  the effect, through the transaction's connection
     */
    public static <K, V> Builder<K, V> builder(Consumer<K, V> consumer, JdbcProcessedIdStore store,
                                               TransactionalHandler<K, V> handler) {
        return new Builder<>(consumer, store, null, Objects.requireNonNull(handler, "handler"));
    }

    /** Joins the consumer group for {@code topics}; the wrapper's rebalance listener runs before {@code listener}. */
    public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
        transition(State.CREATED, State.SUBSCRIBED);
        consumer.subscribe(topics, new Listener(Objects.requireNonNull(listener, "listener")));
    }

    /** Joins the consumer group for {@code topics}. */
    public void subscribe(Collection<String> topics) {
        subscribe(topics, new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            }
        });
    }

    /**
     * Takes {@code partitions} without a consumer group (no group coordinator needed). In the transactional mode the
     * positions come from the database; in the insert-first mode from the consumer's committed offsets (which need a
     * {@code group.id}; without one nothing is committed to Kafka and a restart starts from {@code auto.offset.reset},
     * the store skipping what it remembers).
     */
    public void assign(Collection<TopicPartition> partitions) {
        transition(State.CREATED, State.SUBSCRIBED);
        consumer.assign(partitions);
        assigned(partitions);
    }

    /**
     * Polls once (up to {@code timeout}) and processes what came, in offset order per partition.
     *
     * @return records done in this call (applied, skipped as duplicates or dead-lettered)
     * @throws PoisonRecordException if a record failed its last attempt and there is no dead-letter target
     * @throws org.apache.kafka.common.errors.WakeupException if {@link #close()} interrupted the poll
     */
    public int pollOnce(Duration timeout) {
        if (state != State.SUBSCRIBED) {
            throw new IllegalStateException("pollOnce needs subscribe() or assign() first, and not close(): " + state);
        }
        long now = clock.millis();
        loadPositions(now);
        applyPauses(clock.millis());
        ConsumerRecords<K, V> records = consumer.poll(timeout);
        if (batched()) {
            return pollBatched(records);
        }
        int done = 0;
        List<TopicPartition> partitions = new ArrayList<>(records.partitions());
        try {
            for (int p = 0; p < partitions.size(); p++) {
                TopicPartition tp = partitions.get(p);
                List<ConsumerRecord<K, V>> list = records.records(tp);
                for (ConsumerRecord<K, V> record : list) {
                    Outcome outcome = process(record);
                    if (outcome == Outcome.DONE) {
                        done++;
                        toCommit.put(tp, new OffsetAndMetadata(record.offset() + 1));
                        continue;
                    }
                    consumer.seek(tp, record.offset());
                    if (outcome == Outcome.RETRY_PARTITION) {
                        pausedUntil.put(tp, clock.millis() + retryDelay(attemptsOf(tp, record.offset())));
                        consumer.pause(List.of(tp));
                        break;
                    }
                    rewind(records, partitions, p + 1);
                    if (outcome == Outcome.STORE_DOWN) {
                        storeDown();
                        return done;
                    }
                    int made = attemptsOf(tp, record.offset());
                    throw new PoisonRecordException(tp, record.offset(), made, lastFailure);
                }
            }
        } finally {
            commitKafka(false);
        }
        if (done > 0) {
            storeFailuresInARow = 0;
        }
        return done;
    }

    /**
     * Polls and processes until {@link #close()} is called (from another thread, or from the handler); then commits
     * (insert-first mode) and closes the wrapped consumer. Rethrows {@link PoisonRecordException}.
     */
    public void run() {
        runner = Thread.currentThread();
        try {
            while (state == State.SUBSCRIBED) {
                pollOnce(pollTimeout);
            }
        } catch (WakeupException e) {
            if (state != State.CLOSED) {
                throw e;
            }
        } finally {
            runner = null;
            if (state == State.CLOSED) {
                finish();
            }
        }
    }

    /** Counts since this consumer was built. */
    public ConsumerStats stats() {
        return metrics.snapshot();
    }

    /** The scope its ids and positions are stored under. */
    public String scope() {
        return scope;
    }

    /** The wrapped consumer, for reading (metrics, assignment); see the class comment for what not to call. */
    public Consumer<K, V> consumer() {
        return consumer;
    }

    /**
     * Stops consuming. From another thread while {@link #run()} polls: wakes the poll, and {@code run()} finishes.
     * Otherwise (the polling thread, or nobody polling): commits the insert-first mode's processed offsets and closes
     * the wrapped consumer now. The store is not closed (it may be shared).
     */
    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        Thread r = runner;
        if (r != null && r != Thread.currentThread()) {
            consumer.wakeup();
            return;
        }
        finish();
    }

    private void finish() {
        try {
            commitKafka(true);
        } catch (RuntimeException e) {
            LOG.warn("final offset commit failed (the store de-duplicates the redelivery): {}", e.toString());
        }
        consumer.close();
    }

    private Outcome process(ConsumerRecord<K, V> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        byte[] id = keys.key(record);
        if (id == null || id.length == 0 || id.length > KeyExtractor.MAX_KEY_BYTES) {
            Throwable why = new IllegalArgumentException(id == null || id.length == 0
                ? "no de-duplication key (the key extractor returned none)"
                : "de-duplication key of " + id.length + " bytes, more than " + KeyExtractor.MAX_KEY_BYTES);
            return poison(record, tp, why, maxAttempts);
        }
        long now = clock.millis();
        StoreTransaction tx;
        try {
            tx = store.begin();
        } catch (StoreException e) {
            return storeFailure(e);
        }
        try {
            long t0 = System.nanoTime();
            boolean fresh = tx.insertIfAbsent(scope, id, now);
            metrics.insertNanos(System.nanoTime() - t0);
            if (fresh) {
                long h0 = System.nanoTime();
                try {
                    if (txHandler != null) {
                        txHandler.handle(record, ((JdbcProcessedIdStore.JdbcTransaction) tx).connection());
                    } else {
                        handler.handle(record);
                    }
                } catch (Exception | LinkageError e) {
                    metrics.handlerNanos(System.nanoTime() - h0);
                    boolean broken = txHandler != null && ((JdbcProcessedIdStore.JdbcTransaction) tx)
                        .connectionBroken();
                    tx.rollback();
                    if (broken || transientFailure.test(e)) {
                        return storeFailure(e);
                    }
                    metrics.handlerFailures.increment();
                    int made = attempts.computeIfAbsent(tp, k -> new HashMap<>()).merge(record.offset(), 1,
                        Integer::sum);
                    LOG.warn("handler failed on {}@{} (attempt {} of {}): {}", tp, record.offset(), made, maxAttempts,
                        e.toString());
                    if (made >= maxAttempts) {
                        return poison(record, tp, e, made);
                    }
                    lastFailure = e;
                    return Outcome.RETRY_PARTITION;
                }
                metrics.handlerNanos(System.nanoTime() - h0);
            }
            if (jdbcStore != null) {
                ((JdbcProcessedIdStore.JdbcTransaction) tx).storePosition(scope, tp, record.offset() + 1, now);
            }
            long c0 = System.nanoTime();
            try {
                tx.commit();
            } catch (StoreException e) {
                if (fresh && txHandler == null) {
                    metrics.unrecorded.increment();
                }
                return storeFailure(e);
            }
            metrics.commitNanos(System.nanoTime() - c0);
            if (fresh) {
                metrics.applied.increment();
            } else {
                metrics.duplicates.increment();
            }
            forgetAttempts(tp, record.offset());
            return Outcome.DONE;
        } catch (StoreException e) {
            tx.rollback();
            return storeFailure(e);
        } finally {
            tx.close();
        }
    }

    /** How one batch attempt ended. */
    private enum BatchEnd {
        /** Committed: its records are done. */
        COMMITTED,
        /** A record failed (the transaction is rolled back): settle that record, then apply the batch again. */
        RECORD_FAILED,
        /** The store or the infrastructure failed (rolled back): every partition back, pause. */
        STORE_DOWN
    }

    /** The outcome of one batch attempt. */
    private static final class Batch<K, V> {
        BatchEnd end;
        /** Index in the poll's list after the last record the batch took. */
        int next;
        int applied;
        int duplicates;
        int deadLettered;
        /** Next offset per partition the batch committed. */
        final Map<TopicPartition, Long> positions = new HashMap<>();
        ConsumerRecord<K, V> failed;
        Throwable error;
        /** The failed record has no usable key: poison at once, no attempt. */
        boolean noKey;
    }

    /**
     * The batched transactional mode: the poll's records, in offset order per partition, in batches of up to
     * {@code maxRecordsPerTransaction} records, each batch one database transaction. A record that fails rolls its
     * batch back; it is retried later (its partition paused and left out of this poll) or dead-lettered, and the
     * batch is applied again without it. Each failure takes a record or a partition out, so a batch is attempted at
     * most twice its size plus one times.
     */
    private int pollBatched(ConsumerRecords<K, V> records) {
        List<TopicPartition> partitions = new ArrayList<>(records.partitions());
        List<ConsumerRecord<K, V>> all = new ArrayList<>(records.count());
        Map<TopicPartition, Long> next = new HashMap<>();
        for (TopicPartition tp : partitions) {
            List<ConsumerRecord<K, V>> list = records.records(tp);
            if (fenced.contains(tp) || list.isEmpty()) {
                continue;
            }
            all.addAll(list);
            next.put(tp, list.get(0).offset());
        }
        // partitions out of this poll from an offset on (a record waiting for its retry, fenced, no position)
        Map<TopicPartition, Long> stopped = new HashMap<>();
        Set<ConsumerRecord<K, V>> deadLettered = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        PoisonRecordException poison = null;
        int done = 0;
        int from = 0;
        while (from < all.size()) {
            Batch<K, V> b = applyBatch(all, from, stopped, deadLettered);
            if (b.end == BatchEnd.COMMITTED) {
                done += b.applied + b.duplicates + b.deadLettered;
                next.putAll(b.positions);
                from = b.next;
                continue;
            }
            if (b.end == BatchEnd.RECORD_FAILED) {
                ConsumerRecord<K, V> r = b.failed;
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                Outcome o = recordFailed(r, tp, b.error, b.noKey, deadLettered);
                if (o == Outcome.RETRY_PARTITION || o == Outcome.POISON) {
                    stopped.put(tp, r.offset());
                    consumer.seek(tp, r.offset());
                    if (o == Outcome.RETRY_PARTITION) {
                        pausedUntil.put(tp, clock.millis() + retryDelay(attemptsOf(tp, r.offset())));
                        consumer.pause(List.of(tp));
                    } else if (poison == null) {
                        poison = new PoisonRecordException(tp, r.offset(), attemptsOf(tp, r.offset()), lastFailure);
                    }
                    continue;
                }
                if (o == Outcome.DONE) {
                    continue; // published to the dead-letter target: the batch again, recording it
                }
            }
            // the store is down: every partition back to its first record not committed
            for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
                if (!fenced.contains(e.getKey())) {
                    consumer.seek(e.getKey(), e.getValue());
                }
            }
            storeDown();
            return done;
        }
        if (done > 0) {
            storeFailuresInARow = 0;
        }
        if (poison != null) {
            throw poison;
        }
        return done;
    }

    /**
     * A record of a batch failed (its transaction rolled back): counts the attempt; RETRY_PARTITION, POISON (no
     * dead-letter target), DONE (published to the dead-letter target: the batch records it) or STORE_DOWN (the
     * publish failed).
     */
    private Outcome recordFailed(ConsumerRecord<K, V> r, TopicPartition tp, Throwable e, boolean noKey,
                                 Set<ConsumerRecord<K, V>> deadLettered) {
        int made;
        if (noKey) {
            made = maxAttempts;
        } else {
            metrics.handlerFailures.increment();
            made = attempts.computeIfAbsent(tp, k -> new HashMap<>()).merge(r.offset(), 1, Integer::sum);
            LOG.warn("handler failed on {}@{} (attempt {} of {}), applying its batch again without it: {}", tp,
                r.offset(), made, maxAttempts, e.toString());
        }
        lastFailure = e;
        if (made < maxAttempts) {
            return Outcome.RETRY_PARTITION;
        }
        attempts.computeIfAbsent(tp, k -> new HashMap<>()).put(r.offset(), made);
        if (deadLetters == null) {
            LOG.error("record {}@{} failed {} attempt(s) and no dead-letter target is configured: stopping on it",
                tp, r.offset(), made, e);
            return Outcome.POISON;
        }
        try {
            deadLetters.publish(r, e, made);
        } catch (Exception ex) {
            LOG.warn("dead-letter publish of {}@{} failed, retrying after a back-off: {}", tp, r.offset(),
                ex.toString());
            storeFailure(ex);
            return Outcome.STORE_DOWN;
        }
        LOG.warn("record {}@{} dead-lettered after {} attempt(s): {}", tp, r.offset(), made, e.toString());
        deadLettered.add(r);
        return Outcome.DONE;
    }

    private static boolean isStopped(Map<TopicPartition, Long> stopped, ConsumerRecord<?, ?> r) {
        if (stopped.isEmpty()) {
            return false;
        }
        Long from = stopped.get(new TopicPartition(r.topic(), r.partition()));
        return from != null && r.offset() >= from;
    }

    /** One attempt at the batch that starts at {@code from}: one database transaction. */
    private Batch<K, V> applyBatch(List<ConsumerRecord<K, V>> all, int from, Map<TopicPartition, Long> stopped,
                                   Set<ConsumerRecord<K, V>> deadLettered) {
        Batch<K, V> b = new Batch<>();
        JdbcProcessedIdStore.JdbcTransaction tx;
        try {
            tx = jdbcStore.begin();
        } catch (StoreException e) {
            storeFailure(e);
            b.end = BatchEnd.STORE_DOWN;
            return b;
        }
        long start = System.nanoTime();
        try {
            // the fence: lock the position rows of the partitions this batch may touch, in the claims' order, and
            // leave out those another consumer claimed since this one did (its claim waits for this transaction)
            List<TopicPartition> touched = new ArrayList<>();
            Set<TopicPartition> seen = new HashSet<>();
            for (int i = from, n = 0; i < all.size() && n < maxRecordsPerTransaction; i++) {
                ConsumerRecord<K, V> r = all.get(i);
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (!isStopped(stopped, r)) {
                    n++;
                    if (seen.add(tp)) {
                        touched.add(tp);
                    }
                }
            }
            touched.sort(JdbcProcessedIdStore.PARTITION_ORDER);
            Set<TopicPartition> locked = new HashSet<>();
            for (TopicPartition tp : touched) {
                long epoch = tx.lockPosition(scope, tp);
                Long mine = epochs.get(tp);
                if (mine == null) {
                    // not claimed yet (the claim failed): read the position first, as after an assignment
                    needPosition.add(tp);
                    stopped.put(tp, Long.MIN_VALUE);
                    consumer.pause(List.of(tp));
                } else if (epoch != mine) {
                    LOG.warn("{} was claimed by another consumer (epoch {}, ours {}): leaving its records to it", tp,
                        epoch, mine);
                    fenced.add(tp);
                    stopped.put(tp, Long.MIN_VALUE);
                    consumer.pause(List.of(tp));
                } else {
                    locked.add(tp);
                }
            }
            long now = clock.millis();
            int i = from;
            int taken = 0;
            List<ConsumerRecord<K, V>> done = new ArrayList<>();
            while (i < all.size() && taken < maxRecordsPerTransaction) {
                ConsumerRecord<K, V> r = all.get(i);
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (isStopped(stopped, r)) {
                    i++;
                    continue;
                }
                if (!locked.contains(tp)) {
                    break; // past what this batch locked: the next batch
                }
                byte[] id = keys.key(r);
                boolean validId = id != null && id.length > 0 && id.length <= KeyExtractor.MAX_KEY_BYTES;
                if (deadLettered.contains(r)) {
                    if (validId) {
                        tx.insertIfAbsent(scope, id, now);
                    }
                    b.deadLettered++;
                } else if (!validId) {
                    tx.rollback();
                    b.end = BatchEnd.RECORD_FAILED;
                    b.failed = r;
                    b.noKey = true;
                    b.error = new IllegalArgumentException(id == null || id.length == 0
                        ? "no de-duplication key (the key extractor returned none)"
                        : "de-duplication key of " + id.length + " bytes, more than " + KeyExtractor.MAX_KEY_BYTES);
                    return b;
                } else {
                    long t0 = System.nanoTime();
                    boolean fresh = tx.insertIfAbsent(scope, id, now);
                    metrics.insertNanos(System.nanoTime() - t0);
                    if (fresh) {
                        long h0 = System.nanoTime();
                        try {
                            txHandler.handle(r, tx.connection());
                        } catch (Exception | LinkageError e) {
                            metrics.handlerNanos(System.nanoTime() - h0);
                            boolean broken = tx.connectionBroken();
                            tx.rollback();
                            if (broken || transientFailure.test(e)) {
                                storeFailure(e);
                                b.end = BatchEnd.STORE_DOWN;
                                return b;
                            }
                            b.end = BatchEnd.RECORD_FAILED;
                            b.failed = r;
                            b.error = e;
                            return b;
                        }
                        metrics.handlerNanos(System.nanoTime() - h0);
                        b.applied++;
                    } else {
                        b.duplicates++;
                    }
                }
                b.positions.put(tp, r.offset() + 1);
                done.add(r);
                taken++;
                i++;
                if (System.nanoTime() - start >= maxTransactionNanos) {
                    break;
                }
            }
            b.next = i;
            for (Map.Entry<TopicPartition, Long> e : b.positions.entrySet()) {
                tx.storePosition(scope, e.getKey(), e.getValue(), now);
            }
            long c0 = System.nanoTime();
            tx.commit();
            metrics.commitNanos(System.nanoTime() - c0);
            metrics.applied.add(b.applied);
            metrics.duplicates.add(b.duplicates);
            metrics.deadLettered.add(b.deadLettered);
            if (!attempts.isEmpty()) {
                for (ConsumerRecord<K, V> r : done) {
                    forgetAttempts(new TopicPartition(r.topic(), r.partition()), r.offset());
                }
            }
            b.end = BatchEnd.COMMITTED;
            return b;
        } catch (StoreException e) {
            tx.rollback();
            storeFailure(e);
            b.end = BatchEnd.STORE_DOWN;
            return b;
        } finally {
            tx.close();
        }
    }

    /**
     * The last attempt failed (or the record has no usable key): dead-letter it and record its id and position, or,
     * without a dead-letter target, stop on it.
     */
    private Outcome poison(ConsumerRecord<K, V> record, TopicPartition tp, Throwable cause, int made) {
        lastFailure = cause;
        if (deadLetters == null) {
            LOG.error("record {}@{} failed {} attempt(s) and no dead-letter target is configured: stopping on it",
                tp, record.offset(), made, cause);
            attempts.computeIfAbsent(tp, k -> new HashMap<>()).put(record.offset(), made);
            return Outcome.POISON;
        }
        try {
            deadLetters.publish(record, cause, made);
        } catch (Exception e) {
            LOG.warn("dead-letter publish of {}@{} failed, retrying after a back-off: {}", tp, record.offset(),
                e.toString());
            attempts.computeIfAbsent(tp, k -> new HashMap<>()).put(record.offset(), made);
            return storeFailure(e);
        }
        byte[] id = keys.key(record);
        try (StoreTransaction tx = store.begin()) {
            long now = clock.millis();
            if (id != null && id.length > 0 && id.length <= KeyExtractor.MAX_KEY_BYTES) {
                tx.insertIfAbsent(scope, id, now);
            }
            if (jdbcStore != null) {
                ((JdbcProcessedIdStore.JdbcTransaction) tx).storePosition(scope, tp, record.offset() + 1, now);
            }
            tx.commit();
        } catch (StoreException e) {
            // published but not recorded: the retry publishes again (the dead-letter target is at least once)
            attempts.computeIfAbsent(tp, k -> new HashMap<>()).put(record.offset(), made);
            return storeFailure(e);
        }
        metrics.deadLettered.increment();
        forgetAttempts(tp, record.offset());
        LOG.warn("record {}@{} dead-lettered after {} attempt(s): {}", tp, record.offset(), made, cause.toString());
        return Outcome.DONE;
    }

    private Outcome storeFailure(Throwable e) {
        metrics.storeFailures.increment();
        lastFailure = e;
        LOG.warn("store or infrastructure failure, pausing and retrying: {}", e.toString());
        return Outcome.STORE_DOWN;
    }

    private void storeDown() {
        storeFailuresInARow++;
        long delay = Math.min(storeMax.toMillis(),
            storeInitial.toMillis() << Math.min(20, storeFailuresInARow - 1));
        storeDownUntil = clock.millis() + delay;
        consumer.pause(consumer.assignment());
    }

    /** Seeks every partition of this poll from index {@code from} on back to its first record. */
    private void rewind(ConsumerRecords<K, V> records, List<TopicPartition> partitions, int from) {
        for (int q = from; q < partitions.size(); q++) {
            TopicPartition other = partitions.get(q);
            consumer.seek(other, records.records(other).get(0).offset());
        }
    }

    private int attemptsOf(TopicPartition tp, long offset) {
        Map<Long, Integer> m = attempts.get(tp);
        return m == null ? 0 : m.getOrDefault(offset, 0);
    }

    private void forgetAttempts(TopicPartition tp, long offset) {
        Map<Long, Integer> m = attempts.get(tp);
        if (m != null) {
            m.remove(offset);
            if (m.isEmpty()) {
                attempts.remove(tp);
            }
        }
    }

    private long retryDelay(int attemptsMade) {
        long d = retryInitial.toMillis() << Math.min(20, Math.max(0, attemptsMade - 1));
        return Math.min(retryMax.toMillis(), d);
    }

    /** Pauses exactly the assigned partitions that must wait (store down, back-off, position unknown). */
    private void applyPauses(long now) {
        Set<TopicPartition> assignment = consumer.assignment();
        if (assignment.isEmpty()) {
            return;
        }
        pausedUntil.values().removeIf(until -> until <= now);
        pausedUntil.keySet().retainAll(assignment);
        Set<TopicPartition> wantPaused = new HashSet<>();
        if (storeDownUntil > now) {
            wantPaused.addAll(assignment);
        } else {
            wantPaused.addAll(pausedUntil.keySet());
            for (TopicPartition tp : fenced) {
                if (assignment.contains(tp)) {
                    wantPaused.add(tp);
                }
            }
            for (TopicPartition tp : needPosition) {
                if (assignment.contains(tp)) {
                    wantPaused.add(tp);
                }
            }
        }
        Set<TopicPartition> paused = consumer.paused();
        List<TopicPartition> resume = new ArrayList<>();
        for (TopicPartition tp : paused) {
            if (!wantPaused.contains(tp)) {
                resume.add(tp);
            }
        }
        List<TopicPartition> pause = new ArrayList<>();
        for (TopicPartition tp : wantPaused) {
            if (!paused.contains(tp)) {
                pause.add(tp);
            }
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
    }

    /** Transactional mode: seeks partitions whose stored position has not been read yet (the database was down). */
    private void loadPositions(long now) {
        if (jdbcStore == null || needPosition.isEmpty() || storeDownUntil > now) {
            return;
        }
        Set<TopicPartition> assignment = consumer.assignment();
        needPosition.retainAll(assignment);
        if (needPosition.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, Long> stored = readPositions(needPosition);
            stored.forEach(consumer::seek);
            needPosition.clear();
        } catch (StoreException e) {
            storeFailure(e);
            storeDown();
        }
    }

    private void assigned(Collection<TopicPartition> partitions) {
        if (jdbcStore == null || partitions.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, Long> stored = readPositions(partitions);
            stored.forEach(consumer::seek);
            LOG.info("assigned {}: positions from the database {}", partitions, stored);
        } catch (StoreException e) {
            // no position, no records: they stay paused until the database answers (see loadPositions)
            LOG.warn("cannot read stored positions of {}, pausing them: {}", partitions, e.toString());
            metrics.storeFailures.increment();
            needPosition.addAll(partitions);
            consumer.pause(partitions);
        }
    }

    /**
     * The stored positions of {@code partitions}; in the batched mode they are claimed (see
     * {@link JdbcProcessedIdStore#claimPositions}) and their epochs kept for the fence.
     */
    private Map<TopicPartition, Long> readPositions(Collection<TopicPartition> partitions) {
        if (!batched()) {
            return jdbcStore.loadPositions(scope, partitions);
        }
        Map<TopicPartition, JdbcProcessedIdStore.Claim> claims = jdbcStore.claimPositions(scope, partitions);
        Map<TopicPartition, Long> stored = new HashMap<>();
        claims.forEach((tp, claim) -> {
            epochs.put(tp, claim.epoch());
            fenced.remove(tp);
            if (claim.nextOffset() >= 0) {
                stored.put(tp, claim.nextOffset());
            }
        });
        return stored;
    }

    private void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            epochs.remove(tp);
            fenced.remove(tp);
            attempts.remove(tp);
            pausedUntil.remove(tp);
            needPosition.remove(tp);
            toCommit.remove(tp);
        }
    }

    /** Insert-first mode: commits the offsets processed so far (async between polls, sync at revocation/close). */
    private void commitKafka(boolean sync) {
        if (!kafkaCommits || toCommit.isEmpty()) {
            toCommit.clear();
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(toCommit);
        toCommit.clear();
        if (sync) {
            consumer.commitSync(offsets);
        } else {
            consumer.commitAsync(offsets, (o, e) -> {
                if (e != null) {
                    LOG.debug("offset commit failed (the store de-duplicates the redelivery): {}", e.toString());
                }
            });
        }
    }

    private void transition(State from, State to) {
        if (state != from) {
            throw new IllegalStateException("cannot go from " + state + " to " + to + " (expected " + from + ")");
        }
        state = to;
    }

    /** Default transient-failure test: connection-level failures of JDBC and sockets anywhere in the cause chain. */
    static boolean isTransientInfrastructureFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StoreException || t instanceof SQLTransientConnectionException
                || t instanceof SQLRecoverableException || t instanceof ConnectException
                || t instanceof SocketException) {
                return true;
            }
            if (t instanceof SQLException s && (SqlDialect.isConnectionFailure(s)
                || SqlDialect.isTransactionRollback(s))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** The wrapper's rebalance listener: commits and forgets revoked partitions, seeks assigned ones. */
    private final class Listener implements ConsumerRebalanceListener {
        private final ConsumerRebalanceListener user;

        Listener(ConsumerRebalanceListener user) {
            this.user = user;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            try {
                commitRevoked(partitions);
            } finally {
                forget(partitions);
                user.onPartitionsRevoked(partitions);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
            user.onPartitionsLost(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned(partitions);
            user.onPartitionsAssigned(partitions);
        }

        private void commitRevoked(Collection<TopicPartition> partitions) {
            if (!kafkaCommits) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata o = toCommit.remove(tp);
                if (o != null) {
                    offsets.put(tp, o);
                }
            }
            if (!offsets.isEmpty()) {
                try {
                    consumer.commitSync(offsets);
                } catch (RuntimeException e) {
                    LOG.info("offset commit at revocation failed (the store de-duplicates the redelivery): {}",
                        e.toString());
                }
            }
        }
    }

    /**
     * Configuration of an {@link IdempotentConsumer}.
     *
     * @param <K> the record key type
     * @param <V> the record value type
     */
    public static final class Builder<K, V> {
        private final Consumer<K, V> consumer;
        private final ProcessedIdStore store;
        private final RecordHandler<K, V> handler;
        private final TransactionalHandler<K, V> txHandler;
        private KeyExtractor<K, V> keys;
        private String scope;
        private int maxAttempts = 5;
        private Duration retryInitial = Duration.ofMillis(100);
        private Duration retryMax = Duration.ofSeconds(10);
        private Duration storeInitial = Duration.ofMillis(100);
        private Duration storeMax = Duration.ofSeconds(5);
        private DeadLetterPublisher<K, V> deadLetters;
        private Predicate<Throwable> transientFailure = IdempotentConsumer::isTransientInfrastructureFailure;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry registry = Metrics.globalRegistry;
        private Duration pollTimeout = Duration.ofMillis(500);
        private int maxRecordsPerTransaction = 1;
        private Duration maxTransactionTime = Duration.ofSeconds(1);
        private boolean hasGroup;

        private Builder(Consumer<K, V> consumer, ProcessedIdStore store, RecordHandler<K, V> handler,
                        TransactionalHandler<K, V> txHandler) {
            this.consumer = Objects.requireNonNull(consumer, "consumer");
            this.store = Objects.requireNonNull(store, "store");
            this.handler = handler;
            this.txHandler = txHandler;
        }

        /** How a record's de-duplication key is found (required; see {@link KeyExtractor}). */
        public Builder<K, V> keyExtractor(KeyExtractor<K, V> extractor) {
            this.keys = Objects.requireNonNull(extractor, "extractor");
            return this;
        }

        /**
         * What the ids and positions are stored under: one name per application handler, so that two applications
         * reading the same topic each apply their own effect (default: the consumer's {@code group.id}; required
         * without one). At most 255 characters.
         */
        public Builder<K, V> scope(String scope) {
            this.scope = Objects.requireNonNull(scope, "scope");
            return this;
        }

        /** Handler attempts per record before it is dead-lettered (default 5; 1 = no retry). */
        public Builder<K, V> maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** Back-off after a handler failure: {@code initial}, doubling per attempt, at most {@code max}. */
        public Builder<K, V> retryBackoff(Duration initial, Duration max) {
            checkBackoff(initial, max);
            this.retryInitial = initial;
            this.retryMax = max;
            return this;
        }

        /** Back-off while the store is down: {@code initial}, doubling per failure in a row, at most {@code max}. */
        public Builder<K, V> storeBackoff(Duration initial, Duration max) {
            checkBackoff(initial, max);
            this.storeInitial = initial;
            this.storeMax = max;
            return this;
        }

        /** Where poison records go (default none: {@link #pollOnce} throws {@link PoisonRecordException}). */
        public Builder<K, V> deadLetters(DeadLetterPublisher<K, V> publisher) {
            this.deadLetters = Objects.requireNonNull(publisher, "publisher");
            return this;
        }

        /** Poison records to {@code topic} through {@code producer} (see {@link KafkaDeadLetterPublisher}). */
        public Builder<K, V> deadLetterTopic(String topic, org.apache.kafka.clients.producer.Producer<K, V> producer) {
            return deadLetters(new KafkaDeadLetterPublisher<>(producer, topic, Duration.ofSeconds(30)));
        }

        /**
         * Which handler failures are the infrastructure's, not the record's: retried without counting an attempt
         * (default: JDBC connection failures, refused or reset sockets, {@link StoreException}).
         */
        public Builder<K, V> transientFailure(Predicate<Throwable> test) {
            this.transientFailure = Objects.requireNonNull(test, "test");
            return this;
        }

        /** The clock for insert times and back-offs (default the system's). */
        public Builder<K, V> clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where the consumer's meters go (default Micrometer's global registry). */
        public Builder<K, V> meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** The poll timeout {@link IdempotentConsumer#run()} uses (default 500 ms). */
        public Builder<K, V> pollTimeout(Duration timeout) {
            this.pollTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Transactional mode: up to {@code records} records of one poll (across its partitions) in one database
         * transaction: each record's duplicate check, effect and id, and the positions of every partition touched,
         * commit together (default 1: a transaction per record). A handler failure rolls the batch back and the
         * batch is applied again without the failed record (and the later records of its partition, which wait for
         * its retry). A new owner's claim of a partition waits for an open batch of the old owner, and a later batch
         * of the old owner leaves that partition out (the fence, see docs/CONSUMER.md).
         */
        public Builder<K, V> maxRecordsPerTransaction(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("maxRecordsPerTransaction must be at least 1: " + records);
            }
            this.maxRecordsPerTransaction = records;
            return this;
        }

        /**
         * Batched mode: a batch commits once its records took {@code time}, even if it has fewer than
         * {@link #maxRecordsPerTransaction} records (default 1 s); bounds how long row locks are held.
         */
        public Builder<K, V> maxTransactionTime(Duration time) {
            if (time.isNegative() || time.isZero()) {
                throw new IllegalArgumentException("maxTransactionTime must be positive: " + time);
            }
            this.maxTransactionTime = time;
            return this;
        }

        /**
         * The consumer.
         *
         * @throws IllegalStateException if no key extractor was set, or no scope and the consumer has no group
         */
        public IdempotentConsumer<K, V> build() {
            if (keys == null) {
                throw new IllegalStateException("a key extractor is required: KeyExtractor.header(name), "
                    + "recordKey(...), businessKey(...) or position()");
            }
            String group;
            try {
                group = consumer.groupMetadata().groupId();
            } catch (RuntimeException e) {
                group = null; // InvalidGroupIdException: no group.id
            }
            hasGroup = group != null && !group.isEmpty();
            if (scope == null) {
                if (!hasGroup) {
                    throw new IllegalStateException("a scope is required when the consumer has no group.id");
                }
                scope = group;
            }
            if (maxRecordsPerTransaction > 1 && txHandler == null) {
                throw new IllegalStateException("maxRecordsPerTransaction > 1 needs the transactional mode "
                    + "(a TransactionalHandler): the insert-first mode's effect is outside the store's transaction");
            }
            if (scope.isEmpty() || scope.length() > Validation.MAX_SCOPE_CHARS) {
                throw new IllegalArgumentException("scope must have 1 to 255 characters: " + scope);
            }
            return new IdempotentConsumer<>(this);
        }

        private static void checkBackoff(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("back-off needs 0 <= initial <= max: " + initial + ", " + max);
            }
        }
    }
}
