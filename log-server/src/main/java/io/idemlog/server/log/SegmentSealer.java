package io.idemlog.server.log;

import org.jctools.queues.MpscUnboundedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.locks.LockSupport;

/**
 * The storage thread that finishes rolls ({@code idemlog-log-seal}): a roll only queues its partition here, and this
 * thread runs {@link PartitionLog#runPendingSeals} (the old segment's fsyncs, its index, the snapshot, the directory
 * fsync), so that no fsync of a roll runs on an event loop or under a partition lock. One thread for the store:
 * seals are a few fsyncs per segment.bytes of data, and one at a time keeps their order per partition.
 *
 * <p>Threads: {@link #schedule} from appending threads (under their partition lock: it only enqueues and unparks);
 * {@link #runOnce} on the sealer thread, or from a test or {@link LogManager#close} once the thread has stopped.
 */
final class SegmentSealer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentSealer.class);

    private final MpscUnboundedArrayQueue<PartitionLog> queue = new MpscUnboundedArrayQueue<>(64);
    private volatile Thread thread;
    private volatile boolean running;

    void start() {
        Thread t = new Thread(this, "idemlog-log-seal");
        t.setDaemon(true);
        running = true;
        thread = t;
        t.start();
    }

    /** Stops the thread after what is queued; the caller runs {@link #runOnce} for anything queued later. */
    void stop() throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join();
            thread = null;
        }
    }

    /** Queues a partition that has a roll to seal; never blocks. */
    void schedule(PartitionLog partition) {
        queue.offer(partition);
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Seals what is queued; returns the number of partitions served. */
    int runOnce() {
        int n = 0;
        PartitionLog p;
        while ((p = queue.poll()) != null) {
            try {
                p.runPendingSeals();
            } catch (RuntimeException e) {
                LOG.error("{}: sealing failed", p, e);
                p.failCommit(e);
            }
            n++;
        }
        return n;
    }

    @Override
    public void run() {
        while (running) {
            if (runOnce() == 0) {
                LockSupport.park(this);
            }
        }
        runOnce();
    }
}
