package io.idemlog.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Starting, waiting for and stopping a child JVM whose output goes to a file. Every live child is also known to a
 * JVM shutdown hook that SIGKILLs it, so that a test JVM that dies (or forgets to close a launcher) leaves no
 * process behind.
 */
final class ChildJvm {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK_INSTALLED = new AtomicBoolean();
    private static final long PROBE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private ChildJvm() {
    }

    /** {@code java <jvmArgs> -cp <classpath> <mainClass> <args>}, with this JVM's own java executable. */
    static List<String> javaCommand(List<String> jvmArgs, String classpath, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    /** Starts {@code command}, stdout and stderr appended to {@code logFile} after a line that says what starts. */
    static Process launch(List<String> command, Path logFile, String what) throws IOException {
        installShutdownHook();
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND)) {
            w.write("=== testkit: " + Instant.now() + " starting " + what + ": " + String.join(" ", command) + "\n");
        }
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        LIVE.add(process);
        process.onExit().thenRun(() -> LIVE.remove(process));
        return process;
    }

    /** SIGKILL and wait for the exit. */
    static void kill(Process process, Duration timeout) {
        process.destroyForcibly();
        awaitExit(process, timeout);
    }

    /**
     * SIGTERM and wait up to {@code timeout}; SIGKILL if it is still alive then.
     *
     * @return true if the process exited on SIGTERM
     */
    static boolean terminate(Process process, Duration timeout) {
        process.destroy();
        boolean exited = waitFor(process, timeout);
        if (!exited) {
            kill(process, timeout);
        }
        return exited;
    }

    private static void awaitExit(Process process, Duration timeout) {
        if (!waitFor(process, timeout)) {
            throw new IllegalStateException("process " + process.pid() + " still alive " + timeout.toMillis()
                + " ms after SIGKILL");
        }
        LIVE.remove(process);
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return false;
        }
    }

    /**
     * Waits until something on {@code address} answers a Kafka ApiVersions request. Fails early when the process
     * exits, with the end of its log in the message.
     */
    static void awaitKafkaProtocol(Process process, InetSocketAddress address, Duration timeout, Path logFile,
                                   String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + process.exitValue()
                    + " before answering on " + address + "; end of " + logFile + ":\n" + tail(logFile, 4000));
            }
            try {
                WireConnection.connect(address, Duration.ofSeconds(2)).close();
                return;
            } catch (IOException e) {
                last = e;
            }
            LockSupport.parkNanos(PROBE_PAUSE_NANOS);
        }
        throw new IllegalStateException(what + " did not answer ApiVersions on " + address + " within "
            + timeout.toMillis() + " ms (last error: " + last + "); end of " + logFile + ":\n" + tail(logFile, 4000));
    }

    /** The last {@code maxBytes} of a file, or a note that it cannot be read. */
    static String tail(Path file, int maxBytes) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            int n = (int) Math.min(size, maxBytes);
            ByteBuffer buffer = ByteBuffer.allocate(n);
            channel.read(buffer, size - n);
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** Writes a small text file, replacing it. */
    static void write(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void installShutdownHook() {
        if (HOOK_INSTALLED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (Process p : LIVE) {
                    p.destroyForcibly();
                }
            }, "testkit-child-jvm-reaper"));
        }
    }
}
