package io.idemlog.interop;

import io.idemlog.testkit.ChildJvm;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a client tool to completion with a deadline: a Kafka 4.x command-line tool as a class in a child JVM on this
 * JVM's class path (kafka-tools is a testkit test dependency, as ../shared/peer-kafka runs them), or an executable
 * (kcat, python3). Its stdout is returned; stderr goes to a log file that a failure message quotes.
 */
public final class ExternalTool {
    /** What a run gave: exit code (-1 on timeout) and stdout. */
    record Result(int exitCode, String stdout, Path log) {
        List<String> lines() {
            return stdout.lines().toList();
        }

        Result requireSuccess(String what) {
            if (exitCode != 0) {
                throw new AssertionError(what + " exited " + exitCode + "; stdout:\n" + tail(stdout)
                    + "\nstderr:\n" + ChildJvm.tail(log, 6000));
            }
            return this;
        }

        private static String tail(String s) {
            return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
        }
    }

    private ExternalTool() {
    }

    /** A Kafka tool's main class run in a child JVM, e.g. {@code org.apache.kafka.tools.consumer.ConsoleConsumer}. */
    static Result kafkaTool(Path log, Duration timeout, String mainClass, String... args)
        throws IOException, InterruptedException {
        return run(log, timeout, kafkaToolCommand(log, mainClass, args));
    }

    /** Starts a Kafka tool without waiting (for several concurrent group members); stdout goes to {@code out}. */
    static Process startKafkaTool(Path out, Path log, String mainClass, String... args) throws IOException {
        return start(out, log, kafkaToolCommand(log, mainClass, args));
    }

    /**
     * The child JVM's command. Its logging goes to stderr (WARN and up), so that stdout holds only what the tool
     * prints: the test class path's logback-test.xml would log to stdout.
     */
    private static List<String> kafkaToolCommand(Path log, String mainClass, String... args) throws IOException {
        Path config = log.toAbsolutePath().getParent().resolve("tool-logback.xml");
        Files.createDirectories(config.getParent());
        Files.writeString(config, """
            <configuration>
              <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                <target>System.err</target>
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <root level="WARN"><appender-ref ref="STDERR"/></root>
            </configuration>
            """, StandardCharsets.UTF_8);
        return ChildJvm.javaCommand(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1",
            "-Dlogback.configurationFile=" + config), System.getProperty("java.class.path"), mainClass, List.of(args));
    }

    static Process start(Path out, Path log, List<String> command) throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        return new ProcessBuilder(command).redirectOutput(out.toFile())
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    static Result run(Path log, Duration timeout, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(log.toAbsolutePath().getParent(), "stdout", ".txt");
        Process p = start(out, log, command);
        return await(p, out, log, timeout);
    }

    /** Waits for {@code p} (killing it at the deadline) and returns what it wrote to {@code out}. */
    static Result await(Process p, Path out, Path log, Duration timeout) throws IOException, InterruptedException {
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        return new Result(done ? p.exitValue() : -1, stdout, log);
    }

    /**
     * A python3 that can import {@code module}: Debian's /usr/bin/python3 first (where the apt packages go). Without
     * one the test is skipped with a message, unless IDEMLOG_REQUIRE_PYTHON_KAFKA is set (CI sets it and installs
     * the packages): then it fails.
     */
    public static String python(String module, String debianPackage) throws IOException, InterruptedException {
        for (String candidate : new String[] {"/usr/bin/python3", find("python3")}) {
            if (candidate == null || !Files.isExecutable(Path.of(candidate))) {
                continue;
            }
            Process p = new ProcessBuilder(candidate, "-c", "import " + module).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() == 0) {
                return candidate;
            }
        }
        Assertions.assertTrue(System.getenv("IDEMLOG_REQUIRE_PYTHON_KAFKA") == null, "python3 module " + module
            + " is required (IDEMLOG_REQUIRE_PYTHON_KAFKA is set) but missing: apt-get install " + debianPackage);
        Assumptions.abort("no python3 with " + module + " (apt-get install " + debianPackage + "): not tested");
        return null;
    }

    /** The first executable of that name on the PATH, or in the given directories, or null. */
    static String find(String name, String... extraDirs) {
        List<String> dirs = new ArrayList<>(List.of(extraDirs));
        dirs.addAll(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        for (String d : dirs) {
            File f = new File(d, name);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }
}
