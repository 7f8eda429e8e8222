package io.idemlog.client.internal.net;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.internal.Sender;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The producer's single I/O thread: a one-thread Netty event loop (epoll when available, else NIO) that runs the
 * network and the {@link Sender}. The sender runs when something happens (an answer, a lost connection, a new
 * batch, flush, close: {@link #wakeup()}, coalesced so that a burst costs one run) and at the time its last run
 * asked for (one timer, rescheduled only when the wanted time moves earlier).
 */
public final class IoLoop {
    private static final Logger LOG = LoggerFactory.getLogger(IoLoop.class);

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final LongSupplier clock;
    private final Runnable onInternalError;
    private final AtomicBoolean runPending = new AtomicBoolean();
    private final Runnable runTask = this::run;
    private final Runnable timerTask = this::onTimer;
    private final Object idleMonitor = new Object();
    private volatile boolean idleWaiters;
    private Sender sender;
    private ScheduledFuture<?> timer;
    private long timerAtMs = Long.MAX_VALUE;

    /**
     * @param onInternalError told (on the I/O thread) each time a run of the sender threw: counts the bug
     */
    public IoLoop(String threadName, LongSupplier clock, Runnable onInternalError) {
        this.clock = clock;
        this.onInternalError = onInternalError;
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
        if (Epoll.isAvailable()) {
            group = new EpollEventLoopGroup(1, factory);
            bootstrap = new Bootstrap().group(group).channel(EpollSocketChannel.class);
        } else {
            group = new NioEventLoopGroup(1, factory);
            bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class);
        }
        loop = group.next();
    }

    public EventLoop loop() {
        return loop;
    }

    public Bootstrap bootstrap() {
        return bootstrap;
    }

    /** Which transport Netty uses ("epoll" or "nio"). */
    public String transportName() {
        return group instanceof EpollEventLoopGroup ? "epoll" : "nio";
    }

    public void start(Sender s) {
        this.sender = s;
        wakeup();
    }

    /** Runs the sender soon on the I/O thread. Any thread; costs one CAS when a run is already pending. */
    public void wakeup() {
        if (runPending.compareAndSet(false, true)) {
            loop.execute(runTask);
        }
    }

    public boolean inLoop() {
        return loop.inEventLoop();
    }

    private void onTimer() {
        timer = null;
        timerAtMs = Long.MAX_VALUE;
        run();
    }

    private void run() {
        runPending.set(false);
        Sender s = sender;
        if (s == null) {
            return;
        }
        long now = clock.getAsLong();
        long next;
        try {
            next = s.runOnce(now);
        } catch (RuntimeException e) {
            // A bug: better a producer that fails every record loudly than one that silently stops.
            onInternalError.run();
            LOG.error("producer I/O thread failed", e);
            s.fail(new FatalProducerException("producer I/O thread failed: " + e, (short) -1));
            next = now + 1;
        } catch (Error e) {
            // The JVM is in trouble (out of memory, stack overflow, a broken class path): fail the producer so no
            // caller waits forever, then let the error go on to the event loop, which reports it; never swallow it.
            onInternalError.run();
            try {
                s.fail(new FatalProducerException("producer I/O thread failed: " + e, (short) -1));
            } finally {
                schedule(now + 1, now);
            }
            throw e;
        }
        schedule(Math.max(next, now + 1), now);
        if (idleWaiters) {
            synchronized (idleMonitor) {
                idleMonitor.notifyAll();
            }
        }
    }

    private void schedule(long atMs, long nowMs) {
        if (atMs == Long.MAX_VALUE || atMs >= timerAtMs) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAtMs = atMs;
        timer = loop.schedule(timerTask, atMs - nowMs, TimeUnit.MILLISECONDS);
    }

    /** Runs a task on the I/O thread and waits for it (bounded). */
    public void runAndWait(Runnable task, long timeoutMs) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.submit(task).await(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until the sender reports idle (every batch finished) or the deadline (nanoTime) passes; returns
     * whether it became idle.
     */
    public boolean awaitIdle(long deadlineNanos) throws InterruptedException {
        idleWaiters = true;
        wakeup();
        synchronized (idleMonitor) {
            while (!sender.isIdle()) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                idleMonitor.wait(Math.max(1, Math.min(remaining / 1_000_000, 100)));
            }
            return true;
        }
    }

    /** Stops the event loop and waits (bounded) for its thread to end. */
    public void shutdown(long timeoutMs) {
        group.shutdownGracefully(0, timeoutMs, TimeUnit.MILLISECONDS).awaitUninterruptibly(timeoutMs + 1000);
    }
}
