package io.idemlog.restarts;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The restarted-producer duplicate injection (issue 11 acceptance; docs/DEDUP.md, "The restart benchmark"): an
 * application ({@link RestartApp}, its own JVM) produces the events of a file with the event id as key header and is
 * SIGKILLed at random moments ({@code restarts.kills} times); each start resumes from its last checkpoint, which lags
 * what was sent; the server is SIGKILLed too, once or twice, between application runs. Read back: every event exactly once
 * (0 duplicates, 0 losses). Control: the same run against a server without de-duplication stores the re-sent
 * records again (at least one checkpoint step per kill, and every event at least once). For the idemlog producer and kafka-clients.
 *
 * <p>Small by default (CI smoke: 5,000 events, 3 kills); {@code jmh/bench.sh restarts} runs it with 1,000,000
 * events and 10 kills and prints the figures.
 */
@Tag("slow")
@Timeout(1800)
class RestartDedupTest {
    private static final int EVENTS = Integer.getInteger("restarts.events", 5_000);
    /** Application SIGKILLs per run: 3 in the suite (each costs a JVM start), 10 in jmh/bench.sh restarts. */
    private static final int KILLS = Integer.getInteger("restarts.kills", 3);
    private static final String TOPIC = "events";

    @TempDir
    Path dir;

    record Outcome(long stored, long distinct, long duplicates, long missing, int kills, long millis) {
    }

    private Outcome run(String client, boolean dedup, Path events, Random random) throws Exception {
        String name = client + (dedup ? "-dedup" : "-control");
        ServerProcess.Builder b = ServerProcess.builder(dir.resolve(name + "-data"))
            .override("create.topics", TOPIC + ":1")
            .logFile(dir.resolve(name + "-server.log"));
        if (dedup) {
            b.override("log.dedup.header", RestartApp.HEADER).override("log.dedup.window.ms", "3600000");
        }
        Path checkpoint = dir.resolve(name + ".checkpoint");
        int every = Math.max(100, EVENTS / 100);
        long start = System.nanoTime();
        int kills = 0;
        try (ServerProcess server = b.start()) {
            List<String> command = ChildJvm.javaCommand(List.of("-Xmx512m"), System.getProperty("java.class.path"),
                RestartApp.class.getName(), List.of(server.bootstrap(), TOPIC, events.toString(),
                    checkpoint.toString(), client, Integer.toString(every)));
            while (true) {
                long before = RestartApp.readCheckpoint(checkpoint);
                if (before >= EVENTS) {
                    break;
                }
                Process app = ChildJvm.launch(command, dir.resolve(name + "-app.log"), "restart app");
                if (kills < KILLS) {
                    // Kill once the checkpoint moved a random 1-3 steps. The checkpoint lags what is stored by at
                    // least one step (RestartApp), so the next start re-sends at least `every` stored records.
                    // Stop short of the last two steps: the checkpoint reaches them only as the run ends.
                    long target = Math.min(EVENTS - 2L * every, before + every * (1 + random.nextInt(3)));
                    Await.until("checkpoint of " + name + " past " + target, Duration.ofSeconds(120),
                        () -> !app.isAlive() || checkpointAtLeast(checkpoint, target));
                    if (app.isAlive()) {
                        ChildJvm.kill(app, Duration.ofSeconds(10)); // SIGKILL
                        kills++;
                        if (kills == 2 || kills == 7) {
                            server.kill();
                            server.start();
                        }
                        continue;
                    }
                }
                assertTrue(ChildJvm.waitFor(app, Duration.ofSeconds(600)), "the last run finishes");
                assertEquals(0, app.exitValue(), ChildJvm.tail(dir.resolve(name + "-app.log"), 4000));
            }
            Map<String, Integer> copies = new HashMap<>();
            long stored;
            try (LogReader reader = new LogReader(server.address())) {
                stored = reader.read(TOPIC, 0, r -> copies.merge(
                    new String(r.value(), StandardCharsets.UTF_8).substring("payload-of-".length()), 1,
                    Integer::sum));
            }
            long duplicates = stored - copies.size();
            long missing = EVENTS - copies.size();
            return new Outcome(stored, copies.size(), duplicates, missing, kills,
                (System.nanoTime() - start) / 1_000_000);
        }
    }

    private static boolean checkpointAtLeast(Path file, long target) {
        try {
            return RestartApp.readCheckpoint(file) >= target;
        } catch (Exception e) {
            return false; // being replaced right now
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"idemlog", "kafka"})
    void aRestartedProducerCannotDuplicateWithDedupAndDoesWithout(String client) throws Exception {
        Path events = dir.resolve("events.txt");
        List<String> ids = new ArrayList<>(EVENTS);
        for (int i = 0; i < EVENTS; i++) {
            ids.add(String.format("evt-%08d", i));
        }
        Files.write(events, ids, StandardCharsets.UTF_8);
        Outcome on = run(client, true, events, new Random(1));
        Outcome off = run(client, false, events, new Random(1));
        System.out.printf("restarts %s: %,d events, %d app SIGKILLs, server SIGKILLs after app kills 2 and 7%n"
                + "  dedup on : stored %,d, distinct %,d, duplicates %,d, missing %,d (%,d ms)%n"
                + "  dedup off: stored %,d, distinct %,d, duplicates %,d, missing %,d (%,d ms)%n",
            client, EVENTS, on.kills(), on.stored(), on.distinct(), on.duplicates(), on.missing(), on.millis(),
            off.stored(), off.distinct(), off.duplicates(), off.missing(), off.millis());
        assertEquals(KILLS, on.kills(), "every planned SIGKILL happened");
        assertEquals(0, on.duplicates(), "dedup on: no duplicates");
        assertEquals(0, on.missing(), "dedup on: no losses");
        assertEquals(KILLS, off.kills());
        assertEquals(0, off.missing(), "control: no losses either (at-least-once)");
        // Each kill left at least one checkpoint step (`every` records) stored past the checkpoint.
        long every = Math.max(100, EVENTS / 100);
        assertTrue(off.duplicates() >= KILLS * every,
            "control: the re-sent records are stored again, at least " + KILLS * every + ": " + off);
    }
}
