package io.idemlog.server.group;

import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The group coordinator's own thread, {@code idemlog-group-coordinator}: request handlers {@link #submit} work to it
 * and return at once (an event loop never waits for a rebalance or an fsync); the work answers the request from this
 * thread when it is done (a connection accepts answers from any thread and writes them in request order).
 *
 * <p>Loop: take the queued tasks (up to {@value #MAX_BATCH} at a time), run them, run the timers
 * ({@link GroupCoordinator#tick()}), then one fsync of the offsets journal for every commit of the batch (the group
 * commit), whose callbacks send the commit answers; then, if the journal's log has grown enough, compact it. It
 * wakes at least every {@value #TICK_MS} ms for the timers.
 *
 * <p>The first task loads the committed offsets; until it is done {@link #isLoaded()} is false and handlers answer
 * COORDINATOR_LOAD_IN_PROGRESS (clients retry).
 */
public final class GroupCoordinatorService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinatorService.class);
    static final int MAX_BATCH = 512;
    static final long TICK_MS = 100;

    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final GroupCoordinator coordinator;
    private final OffsetJournal journal;
    private final Thread thread;
    private volatile boolean loaded;
    private volatile boolean running = true;
    private volatile Throwable loadFailure;

    public GroupCoordinatorService(GroupConfig config, EpochClock clock, OffsetJournal journal,
                                   Predicate<TopicPartition> partitionExists) {
        this.journal = journal;
        this.coordinator = new GroupCoordinator(config, clock, journal, partitionExists, new Random());
        this.thread = new Thread(this::run, "idemlog-group-coordinator");
        this.thread.setDaemon(true);
    }

    /** Starts the thread; the offsets load is its first task. */
    public GroupCoordinatorService start() {
        queue.add(() -> {
            try {
                coordinator.load(journal.load(), journal.loadedGroups());
                loaded = true;
                LOG.info("group coordinator loaded the committed offsets of {} groups", coordinator.groupCount());
            } catch (IOException | RuntimeException e) {
                loadFailure = e;
                LOG.error("group coordinator cannot load the committed offsets; group requests will be refused", e);
            }
        });
        thread.start();
        return this;
    }

    /** Whether the committed offsets are loaded (before: COORDINATOR_LOAD_IN_PROGRESS). */
    public boolean isLoaded() {
        return loaded;
    }

    /** Whether loading failed (then: COORDINATOR_NOT_AVAILABLE, for good). */
    public boolean loadFailed() {
        return loadFailure != null;
    }

    /**
     * Runs {@code task} on the coordinator thread. Returns false when the service is closed (the caller answers or
     * closes the connection itself).
     */
    public boolean submit(Consumer<GroupCoordinator> task) {
        if (!running) {
            return false;
        }
        queue.add(() -> task.accept(coordinator));
        return true;
    }

    /**
     * Runs {@code r} on the coordinator thread (a journal's completion coming back from another thread); dropped
     * once the service is closed (the journal's close answers what was still waiting).
     */
    public void execute(Runnable r) {
        if (running) {
            queue.add(r);
        }
    }

    /** Whether the thread still runs (false once {@link #close} began). */
    public boolean isRunning() {
        return running;
    }

    private void run() {
        List<Runnable> batch = new ArrayList<>(MAX_BATCH);
        while (running) {
            try {
                Runnable first = queue.poll(TICK_MS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                }
                for (Runnable r : batch) {
                    runSafely(r);
                }
                batch.clear();
                if (loaded) {
                    runSafely(coordinator::tick);
                }
                if (journal.hasPending()) {
                    journal.sync();
                } else if (loaded && journal.wantsCompaction()) {
                    journal.compact(coordinator.offsetsSnapshot(), coordinator.groupRecordsSnapshot());
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                LOG.error("group coordinator loop error", e);
            }
        }
    }

    private static void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.error("group coordinator task failed", e);
        }
    }

    /** Stops the thread after the work already queued, then makes the journal durable and closes it. */
    @Override
    public void close() throws IOException {
        if (!running) {
            return;
        }
        queue.add(() -> running = false);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journal.close();
    }
}
