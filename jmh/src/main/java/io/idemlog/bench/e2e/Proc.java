package io.idemlog.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** What Linux's /proc says about processes and the machine: CPU time, load average, CPU model; and an fsync probe. */
final class Proc {
    /** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ); 100 on every Linux we run on. */
    static final long TICKS_PER_SECOND = clockTicks();

    private Proc() {
    }

    /** CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat fields 14 and 15. */
    static double cpuSeconds(long pid) {
        String[] f = statFields(pid);
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / (double) TICKS_PER_SECOND;
    }

    /**
     * CPU seconds (user + system) of this JVM's children that have exited and been waited for (fields 16 and 17
     * of /proc/self/stat): the CPU a finished kcat process used, taken as a difference around its run.
     */
    static double reapedChildrenCpuSeconds() {
        String[] f = statFields(ProcessHandle.current().pid());
        return (Long.parseLong(f[15]) + Long.parseLong(f[16])) / (double) TICKS_PER_SECOND;
    }

    /** The fields of /proc/<pid>/stat after the command name (which may contain spaces), numbered as in proc(5). */
    private static String[] statFields(long pid) {
        String s = read(Path.of("/proc", String.valueOf(pid), "stat"));
        int close = s.lastIndexOf(')');
        String[] rest = s.substring(close + 2).trim().split(" ");
        String[] f = new String[rest.length + 2];
        f[0] = String.valueOf(pid);
        f[1] = s.substring(s.indexOf('('), close + 1);
        System.arraycopy(rest, 0, f, 2, rest.length);
        return f;
    }

    /** The arguments of a process, from /proc/<pid>/cmdline (empty if it is gone). */
    static List<String> commandLine(long pid) {
        try {
            String s = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline")),
                StandardCharsets.UTF_8);
            return List.of(s.split("\0"));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The 1-minute load average. */
    static double load1() {
        return Double.parseDouble(read(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    /** /proc/loadavg's three averages, "1.20 0.90 0.70". */
    static String loadAverages() {
        String[] f = read(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    /** One line: CPUs, model, memory, kernel, JDK. */
    static String machine() {
        String model = "?";
        for (String line : read(Path.of("/proc/cpuinfo")).split("\n")) {
            if (line.startsWith("model name")) {
                model = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        String memKb = "?";
        for (String line : read(Path.of("/proc/meminfo")).split("\n")) {
            if (line.startsWith("MemTotal:")) {
                memKb = line.replaceAll("[^0-9]", "");
                break;
            }
        }
        return String.format(Locale.ROOT, "nproc=%d, cpu model '%s', memory %.1f GiB, kernel %s, JDK %s (%s)",
            Runtime.getRuntime().availableProcessors(), model, Long.parseLong(memKb) / 1048576.0,
            System.getProperty("os.version"), System.getProperty("java.runtime.version"),
            System.getProperty("java.vm.name"));
    }

    /**
     * The latency of a 4 KiB write + fsync (FileChannel.force(false)) in {@code dir}, {@code n} times: min, median,
     * p90 and max in ms. It says what one group commit costs on this disk at best.
     */
    static String fsyncProbe(Path dir, int n) {
        Path file = dir.resolve("fsync-probe.bin");
        double[] ms = new double[n];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            for (int i = 0; i < n; i++) {
                buf.clear();
                long t0 = System.nanoTime();
                ch.write(buf, (long) i * 4096);
                ch.force(false);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
        } catch (IOException e) {
            return "fsync probe failed: " + e;
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // best effort
            }
        }
        Arrays.sort(ms);
        return String.format(Locale.ROOT, "4 KiB append + fsync in %s, %d times: min %.3f ms, median %.3f ms, "
            + "p90 %.3f ms, max %.3f ms", dir, n, ms[0], ms[n / 2], ms[(int) (n * 0.9)], ms[n - 1]);
    }

    /** Runs {@code sync} (every dirty page of the machine to disk), so that one run's writeback is not the next's. */
    static void sync() {
        try {
            Process p = new ProcessBuilder(List.of("sync")).inheritIO().start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long clockTicks() {
        try {
            return Long.parseLong(run(10, "getconf", "CLK_TCK").trim());
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    /**
     * Runs a command and returns its output (stdout and stderr), or why it could not run. The output is read to its
     * end before waiting (a command that fills the pipe never blocks), then the exit is awaited up to
     * {@code timeoutSeconds}.
     */
    static String run(int timeoutSeconds, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            return String.join(" ", command) + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return String.join(" ", command) + ": interrupted";
        }
    }
}
