package io.idemlog.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The idemlog server in its own JVM, so that a test can SIGKILL it like a crash:
 * {@code java -cp <classpath> io.idemlog.server.Main --override listeners=PLAINTEXT://127.0.0.1:<port>
 * --override log.dirs=<dataDir> [--override key=value]...}, stdout and stderr appended to a log file.
 *
 * <p>{@link #start()} returns once the server answers an ApiVersions request. {@link #kill()} is SIGKILL,
 * {@link #stop()} SIGTERM (then SIGKILL if it does not exit in time), {@link #restart()} starts it again on the same
 * port and data directory. {@link #close()} never leaves the process behind, and a JVM shutdown hook kills it if the
 * test JVM exits first.
 *
 * <pre>{@code
 * try (ServerProcess server = ServerProcess.builder(tempDir.resolve("data")).start()) {
 *     producer = ... server.bootstrap() ...;
 *     server.kill();
 *     server.start();   // same port, same data: recovery
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class ServerProcess implements AutoCloseable {
    /** The server's main class, in module log-server. */
    public static final String DEFAULT_MAIN_CLASS = "io.idemlog.server.Main";

    private final Path dataDir;
    private final int port;
    private final String classpath;
    private final String mainClass;
    private final Map<String, String> overrides;
    private final List<String> jvmArgs;
    private final Path logFile;
    private final Duration startupTimeout;
    private final Duration stopTimeout;
    private Process process;
    private int starts;

    private ServerProcess(Builder b) {
        this.dataDir = b.dataDir.toAbsolutePath();
        this.port = b.port == 0 ? Ports.freePort() : b.port;
        this.classpath = b.classpath;
        this.mainClass = b.mainClass;
        this.overrides = new LinkedHashMap<>(b.overrides);
        this.jvmArgs = List.copyOf(b.jvmArgs);
        this.logFile = b.logFile != null ? b.logFile.toAbsolutePath()
            : dataDir.resolveSibling(dataDir.getFileName() + "-server.log");
        this.startupTimeout = b.startupTimeout;
        this.stopTimeout = b.stopTimeout;
    }

    /** A builder for a server that keeps its data in {@code dataDir} (created if needed). */
    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /**
     * Starts the server and waits until it answers ApiVersions.
     *
     * @throws IllegalStateException if it is already running, exits, or does not answer within the startup timeout
     *                               (the message carries the end of its log)
     */
    public ServerProcess start() {
        if (isAlive()) {
            throw new IllegalStateException("already running: " + this);
        }
        List<String> args = new ArrayList<>();
        args.add("--override");
        args.add("listeners=PLAINTEXT://" + Ports.LOOPBACK + ":" + port);
        args.add("--override");
        args.add("log.dirs=" + dataDir);
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            args.add("--override");
            args.add(e.getKey() + "=" + e.getValue());
        }
        try {
            Files.createDirectories(dataDir);
            starts++;
            process = ChildJvm.launch(ChildJvm.javaCommand(jvmArgs, classpath, mainClass, args), logFile,
                "idemlog server #" + starts + " on port " + port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + mainClass, e);
        }
        try {
            ChildJvm.awaitKafkaProtocol(process, address(), startupTimeout, logFile, "idemlog server");
        } catch (RuntimeException e) {
            ChildJvm.kill(process, stopTimeout);
            throw e;
        }
        return this;
    }

    /** SIGKILL, like a crash or a power cut for the process (not for the page cache); waits for the exit. */
    public void kill() {
        if (process != null && process.isAlive()) {
            ChildJvm.kill(process, stopTimeout);
        }
    }

    /**
     * SIGTERM, then waits for a clean exit; SIGKILL if the server has not exited within the stop timeout.
     *
     * @return true if the server exited on SIGTERM (or was not running)
     */
    public boolean stop() {
        if (process != null && process.isAlive()) {
            return ChildJvm.terminate(process, stopTimeout);
        }
        return true;
    }

    /** {@link #stop()} if running, then {@link #start()} on the same port and data directory. */
    public ServerProcess restart() {
        stop();
        return start();
    }

    /** Whether the server process is running. */
    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Its exit code; throws if it never ran or still runs. */
    public int exitCode() {
        if (process == null || process.isAlive()) {
            throw new IllegalStateException("not exited: " + this);
        }
        return process.exitValue();
    }

    /** OS process id of the current (or last) run. */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("never started");
        }
        return process.pid();
    }

    /** The port it listens on; the same across restarts. */
    public int port() {
        return port;
    }

    /** 127.0.0.1:{@link #port()}. */
    public InetSocketAddress address() {
        return Ports.loopback(port);
    }

    /** "127.0.0.1:port", for a client's bootstrap.servers. */
    public String bootstrap() {
        return Ports.LOOPBACK + ":" + port;
    }

    /** Where it keeps its data. */
    public Path dataDir() {
        return dataDir;
    }

    /** Where its stdout and stderr go (appended across restarts). */
    public Path logFile() {
        return logFile;
    }

    /** The last {@code maxBytes} of its log file. */
    public String logTail(int maxBytes) {
        return ChildJvm.tail(logFile, maxBytes);
    }

    /** Stops the server (SIGTERM, then SIGKILL after the stop timeout). */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "ServerProcess(" + mainClass + " on " + bootstrap() + ", data " + dataDir + ", "
            + (isAlive() ? "pid " + process.pid() : "not running") + ", log " + logFile + ")";
    }

    /** Configuration of a {@link ServerProcess}. */
    public static final class Builder {
        private final Path dataDir;
        private int port;
        private String classpath = System.getProperty("java.class.path");
        private String mainClass = DEFAULT_MAIN_CLASS;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>(List.of("-Xms128m", "-Xmx512m"));
        private Path logFile;
        private Duration startupTimeout = Duration.ofSeconds(30);
        private Duration stopTimeout = Duration.ofSeconds(15);

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        }

        /** The port to listen on; 0 (default) picks a free one, kept across restarts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The class path of the server JVM; defaults to this JVM's {@code java.class.path}. */
        public Builder classpath(String classpath) {
            this.classpath = Objects.requireNonNull(classpath, "classpath");
            return this;
        }

        /** The main class; defaults to {@link #DEFAULT_MAIN_CLASS}. */
        public Builder mainClass(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
            return this;
        }

        /** A configuration property passed as {@code --override key=value}. */
        public Builder override(String key, String value) {
            if ("listeners".equals(key) || "log.dirs".equals(key)) {
                throw new IllegalArgumentException(key + " is set from port and dataDir");
            }
            overrides.put(key, value);
            return this;
        }

        /** Replaces the JVM options (default {@code -Xms128m -Xmx512m}). */
        public Builder jvmArgs(String... args) {
            jvmArgs.clear();
            jvmArgs.addAll(List.of(args));
            return this;
        }

        /** Where stdout and stderr go; defaults to {@code <dataDir>-server.log} beside the data directory. */
        public Builder logFile(Path logFile) {
            this.logFile = logFile;
            return this;
        }

        /** How long {@link ServerProcess#start()} waits for ApiVersions to be answered (default 30 s). */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        /** How long {@link ServerProcess#stop()} waits after SIGTERM before SIGKILL (default 15 s). */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /** The launcher, not started. */
        public ServerProcess build() {
            return new ServerProcess(this);
        }

        /** The launcher, started and answering. */
        public ServerProcess start() {
            return build().start();
        }
    }
}
