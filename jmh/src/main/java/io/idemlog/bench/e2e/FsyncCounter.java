package io.idemlog.bench.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Counts a process's fsync and fdatasync calls over an interval with {@code perf stat} on the syscall tracepoints
 * (counted in the kernel: no stop per call, unlike strace). Optional: when perf is missing or not allowed, the count
 * is -1 and the run goes on.
 */
final class FsyncCounter implements AutoCloseable {
    private static final String EVENTS = "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync";
    private final Process perf;
    private final Path output;

    private FsyncCounter(Process perf, Path output) {
        this.perf = perf;
        this.output = output;
    }

    /** Whether {@code perf stat} can count syscall tracepoints here (checked once). */
    static boolean available() {
        return Holder.AVAILABLE;
    }

    private static final class Holder {
        static final boolean AVAILABLE = probe();

        private static boolean probe() {
            try {
                Process p = new ProcessBuilder("perf", "stat", "-x,", "-e", EVENTS, "--", "true")
                    .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("sys_enter_fdatasync")
                    && !out.contains("<not supported>");
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Starts counting for every thread of the processes {@code pids} (summed); null when perf is not available. */
    static FsyncCounter start(List<Long> pids, Path dir) {
        if (!available()) {
            return null;
        }
        try {
            Path out = Files.createTempFile(dir, "perf-", ".csv");
            Process p = new ProcessBuilder("perf", "stat", "-x,", "-o", out.toString(), "-e", EVENTS, "-p",
                pids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // perf attaches asynchronously; give it a moment so that the first fsyncs are counted
            Thread.sleep(200);
            return new FsyncCounter(p, out);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Stops counting (SIGINT, on which perf prints its counts) and returns fsync + fdatasync calls, or -1. */
    long stop() {
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(perf.pid())).start().waitFor(10, TimeUnit.SECONDS);
            if (!perf.waitFor(20, TimeUnit.SECONDS)) {
                perf.destroyForcibly();
                return -1;
            }
            long sum = 0;
            boolean seen = false;
            List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
            for (String line : lines) {
                String[] f = line.split(",");
                if (f.length >= 3 && f[2].startsWith("syscalls:sys_enter_f")) {
                    sum += Long.parseLong(f[0].trim());
                    seen = true;
                }
            }
            return seen ? sum : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    @Override
    public void close() {
        if (perf.isAlive()) {
            perf.destroyForcibly();
        }
    }
}
