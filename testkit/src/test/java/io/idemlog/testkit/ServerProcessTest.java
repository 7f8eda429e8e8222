package io.idemlog.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ServerProcess against {@link FakeKafkaServer#main}, a stand-in for io.idemlog.server.Main. */
@Timeout(120)
class ServerProcessTest {
    private static final int SIGKILL_EXIT = 128 + 9;
    private static final int SIGTERM_EXIT = 128 + 15;

    @TempDir
    Path dir;

    private ServerProcess.Builder fake() {
        return ServerProcess.builder(dir.resolve("data")).mainClass(FakeKafkaServer.class.getName())
            .jvmArgs("-Xmx64m").startupTimeout(Duration.ofSeconds(30));
    }

    private static void assertAnswers(ServerProcess server) throws IOException {
        WireConnection.connect(server.address(), Duration.ofSeconds(5)).close();
    }

    private static boolean alive(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        return handle.isPresent() && handle.get().isAlive();
    }

    @Test
    void shouldStartASeparateJvmAndReturnOnceItAnswersApiVersions() throws IOException {
        try (ServerProcess server = fake().start()) {
            assertTrue(server.isAlive());
            assertTrue(server.pid() != ProcessHandle.current().pid());
            assertAnswers(server);
            // the child prints that line once it serves, so it may answer a moment before the line reaches the file
            Await.until(() -> "the child's output in its log file:\n" + server.logTail(10_000), Duration.ofSeconds(10),
                () -> server.logTail(10_000).contains("fake server listening on " + server.port()));
            assertTrue(Files.isDirectory(server.dataDir()));
        }
    }

    @Test
    void shouldKillWithSigkillAndRestartOnTheSamePortAndData() throws IOException {
        try (ServerProcess server = fake().start()) {
            int port = server.port();
            server.kill();
            assertFalse(server.isAlive());
            assertEquals(SIGKILL_EXIT, server.exitCode());
            assertFalse(Files.exists(server.dataDir().resolve("clean-shutdown")), "a kill runs no shutdown hook");

            server.start();
            assertEquals(port, server.port());
            assertAnswers(server);
            assertEquals("start\nstart\n", Files.readString(server.dataDir().resolve("starts")));
        }
    }

    @Test
    void shouldStopWithSigtermSoTheServerCanShutDownCleanly() throws IOException {
        try (ServerProcess server = fake().start()) {
            assertTrue(server.stop());
            assertEquals(SIGTERM_EXIT, server.exitCode());
            assertTrue(Files.exists(server.dataDir().resolve("clean-shutdown")));
            server.restart();
            assertAnswers(server);
        }
    }

    @Test
    void shouldLeaveNoProcessBehindOnClose() {
        long pid;
        try (ServerProcess server = fake().start()) {
            pid = server.pid();
        }
        assertFalse(alive(pid));
    }

    @Test
    void shouldFailFastWithTheServerLogWhenTheServerExits() {
        ServerProcess server = fake().mainClass("io.idemlog.testkit.NoSuchMain").build();
        IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
        assertTrue(e.getMessage().contains("NoSuchMain"), e.getMessage());
        assertFalse(server.isAlive());
    }

    @Test
    void shouldRefuseToStartTwice() {
        try (ServerProcess server = fake().start()) {
            assertThrows(IllegalStateException.class, server::start);
        }
    }
}
