package io.idemlog.server.cluster;

import io.idemlog.server.group.OffsetJournal;
import io.idemlog.server.group.OffsetRecords;
import io.idemlog.server.group.OffsetValue;
import io.idemlog.server.group.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The group coordinator's journal in cluster mode: each {@link #sync()} (the coordinator thread's group commit)
 * proposes the appends since the last one as ONE Raft entry of the offsets group (framed {@link OffsetRecords}), and
 * an action waiting in {@link #whenDurable} runs once the entry holding everything appended before it is committed
 * by a majority (and so fsync'd by Ratis on a majority) and applied here. Raft commits in log order, so an entry
 * committed means every earlier one is too: a waiter attaches to the newest entry in flight.
 *
 * <p>Completions come back on Ratis's threads and are handed to the coordinator thread ({@code coordinatorThread}).
 * A failed entry (this node lost the leadership, a timeout) fails the journal: it and every later waiter say false
 * (the coordinator answers COORDINATOR_NOT_AVAILABLE; the client finds the new coordinator, whose state is what was
 * committed). {@link #close()} answers false to everything still waiting. Coordinator thread only, but
 * {@link #close()}.
 */
public final class ReplicatedOffsetJournal implements OffsetJournal {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedOffsetJournal.class);

    /** Proposes one entry to the offsets group; completes when it is committed and applied, or fails. */
    @FunctionalInterface
    public interface Proposer {
        CompletableFuture<?> propose(byte[] entry);
    }

    private static final class InFlight {
        final List<DurableAction> actions;

        InFlight(List<DurableAction> actions) {
            this.actions = actions;
        }
    }

    private final Supplier<OffsetsStateMachine.State> committed;
    private final Proposer proposer;
    private volatile Executor coordinatorThread;
    private final OffsetRecords pending = new OffsetRecords(16 * 1024);
    private List<DurableAction> waiting = new ArrayList<>();
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private boolean failed;
    private boolean closed;
    private long entries;
    private Map<String, GroupRecord> loadedGroups = Map.of();

    /**
     * @param committed         the replicated state as applied here (read once, by {@link #load()})
     * @param proposer          how an entry reaches the offsets group
     * @param coordinatorThread where completions run (the coordinator's thread)
     */
    public ReplicatedOffsetJournal(Supplier<OffsetsStateMachine.State> committed, Proposer proposer,
                                   Executor coordinatorThread) {
        this.committed = Objects.requireNonNull(committed, "committed");
        this.proposer = Objects.requireNonNull(proposer, "proposer");
        this.coordinatorThread = Objects.requireNonNull(coordinatorThread, "coordinatorThread");
    }

    /** Sets where completions run (the service's thread, once it exists). */
    public void setCoordinatorThread(Executor executor) {
        this.coordinatorThread = Objects.requireNonNull(executor, "executor");
    }

    @Override
    public Map<String, Map<TopicPartition, OffsetValue>> load() {
        OffsetsStateMachine.State s = committed.get();
        loadedGroups = s.groups();
        return s.offsets();
    }

    @Override
    public Map<String, GroupRecord> loadedGroups() {
        return loadedGroups;
    }

    @Override
    public void put(String group, TopicPartition tp, OffsetValue value) {
        pending.put(group, tp, value);
    }

    @Override
    public void delete(String group, TopicPartition tp) {
        pending.delete(group, tp);
    }

    @Override
    public void putGroup(String group, GroupRecord record) {
        pending.putGroup(group, record);
    }

    @Override
    public void deleteGroup(String group) {
        pending.deleteGroup(group);
    }

    @Override
    public void whenDurable(DurableAction action) {
        if (failed || closed) {
            action.run(false);
        } else if (!pending.isEmpty()) {
            waiting.add(action);
        } else if (!inFlight.isEmpty()) {
            inFlight.peekLast().actions.add(action);
        } else {
            action.run(true);
        }
    }

    @Override
    public boolean hasPending() {
        return !pending.isEmpty() || !waiting.isEmpty();
    }

    /** Entries proposed so far. */
    public long entries() {
        return entries;
    }

    /** Whether an entry failed (then every later waiter is told false). */
    public boolean failed() {
        return failed;
    }

    @Override
    public void sync() {
        if (pending.isEmpty()) {
            List<DurableAction> run = waiting;
            waiting = new ArrayList<>();
            runAll(run, !failed && !closed);
            return;
        }
        if (failed || closed) {
            pending.clear();
            List<DurableAction> run = waiting;
            waiting = new ArrayList<>();
            runAll(run, false);
            return;
        }
        byte[] entry = pending.toByteArray();
        pending.clear();
        InFlight f = new InFlight(waiting);
        waiting = new ArrayList<>();
        inFlight.addLast(f);
        entries++;
        CompletableFuture<?> proposed;
        try {
            proposed = proposer.propose(entry);
        } catch (RuntimeException e) {
            proposed = CompletableFuture.failedFuture(e);
        }
        proposed.whenComplete((r, t) -> coordinatorThread.execute(() -> complete(f, t)));
    }

    private void complete(InFlight f, Throwable t) {
        if (!inFlight.remove(f)) {
            return; // closed meanwhile: already answered
        }
        if (t != null && !failed) {
            failed = true;
            LOG.warn("an offsets entry was not committed ({}): this coordinator stops accepting commits", t.toString());
        }
        runAll(f.actions, t == null && !closed);
    }

    private static void runAll(List<DurableAction> actions, boolean durable) {
        for (DurableAction a : actions) {
            try {
                a.run(durable);
            } catch (RuntimeException e) {
                LOG.error("an offsets answer failed", e); // one broken answer must not keep the others waiting
            }
        }
    }

    /** Answers false to everything still waiting (this coordinator is going away); later waiters are told false. */
    @Override
    public void close() {
        closed = true;
        pending.clear();
        List<DurableAction> run = new ArrayList<>(waiting);
        waiting = new ArrayList<>();
        for (InFlight f : inFlight) {
            run.addAll(f.actions);
        }
        inFlight.clear();
        runAll(run, false);
    }
}
