package io.idemlog.restarts;

import io.idemlog.interop.ExternalTool;
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
import java.io.InputStream;
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
 * what was sent; the server is SIGKILLed too: once while the application sends (during its 2nd run), and between
 * application runs after the 2nd and 7th kill. Read back: every event exactly once
 * (0 duplicates, 0 losses). Control: the same run against a server without de-duplication stores the re-sent
 * records again: its duplicates equal the re-sent records exactly (counted at each start as the events already stored
 * past the checkpoint), and every event is there at least once. For the idemlog producer, kafka-clients and
 * librdkafka (through Debian's python3-confluent-kafka: kcat's -H gives every message of a run the same header, so
 * kcat cannot send one event id per record).
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

    /**
     * What a run gave: records stored, distinct events among them, duplicates (stored - distinct), events missing,
     * application SIGKILLs, and the re-sent records: at each start, the events already stored at or after the
     * checkpoint it resumes from (the stored events are always a prefix of the file: one idempotent session at a
     * time, one partition), which that start sends again.
     */
    record Outcome(long stored, long distinct, long duplicates, long missing, int kills, long resent, long millis) {
    }

    /**
     * The command that starts the application for {@code client}: idemlog, kafka (kafka-clients), kafka-lz4
     * (kafka-clients with compression.type=lz4: compressed batches, repeats in them) or librdkafka.
     */
    private List<String> appCommand(String client, ServerProcess server, Path events, Path checkpoint, int every)
        throws Exception {
        if (client.equals("librdkafka")) {
            Path script = dir.resolve("restart_app_librdkafka.py");
            if (!Files.exists(script)) {
                try (InputStream in = getClass().getResourceAsStream("restart_app_librdkafka.py")) {
                    Files.copy(in, script);
                }
            }
            return List.of(ExternalTool.python("confluent_kafka", "python3-confluent-kafka"), script.toString(),
                server.bootstrap(), TOPIC, events.toString(), checkpoint.toString(), Integer.toString(every));
        }
        return ChildJvm.javaCommand(List.of("-Xmx512m"), System.getProperty("java.class.path"),
            RestartApp.class.getName(), List.of(server.bootstrap(), TOPIC, events.toString(),
                checkpoint.toString(), client, Integer.toString(every)));
    }

    /** One past the highest event index stored (0 if none): the stored events are {@code [0, that)}. */
    private static long storedPrefix(ServerProcess server) throws IOException {
        try (LogReader reader = new LogReader(server.address())) {
            if (reader.partitionCount(TOPIC) == 0) {
                return 0;
            }
            long[] highest = {-1};
            reader.read(TOPIC, 0, r -> highest[0] = Math.max(highest[0], eventIndex(r.value())));
            return highest[0] + 1;
        }
    }

    private static long eventIndex(byte[] value) {
        return Long.parseLong(new String(value, StandardCharsets.UTF_8).substring("payload-of-evt-".length()));
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
        int serverKillsDuringSends = 0;
        long resent = 0;
        try (ServerProcess server = b.start()) {
            List<String> command = appCommand(client, server, events, checkpoint, every);
            while (true) {
                long before = RestartApp.readCheckpoint(checkpoint);
                if (before >= EVENTS) {
                    break;
                }
                resent += Math.max(0, storedPrefix(server) - before);
                Process app = ChildJvm.launch(command, dir.resolve(name + "-app.log"), "restart app");
                if (kills < KILLS) {
                    // Kill once the checkpoint moved a random 1-3 steps. The checkpoint lags what is stored by at
                    // least one step (RestartApp), so the next start re-sends at least `every` stored records.
                    // Stop short of the last two steps: the checkpoint reaches them only as the run ends.
                    long target = Math.min(EVENTS - 3L * every, before + every * (1 + random.nextInt(3)));
                    assertTrue(target > before, "room for another kill: use more events or fewer kills");
                    Await.until("checkpoint of " + name + " past " + target, Duration.ofSeconds(120),
                        () -> !app.isAlive() || checkpointAtLeast(checkpoint, target));
                    if (app.isAlive() && kills == 1) {
                        // Once per run, the server is SIGKILLed while the application is sending: its producer
                        // retries through the restart in the same session, which must store nothing twice (the
                        // restarted server answers those retries from its recovered producer state), and the
                        // application must get through: its checkpoint moves another step before it is killed.
                        server.kill();
                        server.start();
                        serverKillsDuringSends++;
                        long further = target + every;
                        Await.until("checkpoint of " + name + " past " + further + " after a server restart",
                            Duration.ofSeconds(120), () -> !app.isAlive() || checkpointAtLeast(checkpoint, further));
                    }
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
            assertEquals(KILLS > 1 ? 1 : 0, serverKillsDuringSends, "the server was killed during sends");
            return new Outcome(stored, copies.size(), duplicates, missing, kills, resent,
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
    @ValueSource(strings = {"idemlog", "kafka", "kafka-lz4", "librdkafka"})
    void aRestartedProducerCannotDuplicateWithDedupAndDoesWithout(String client) throws Exception {
        Path events = dir.resolve("events.txt");
        List<String> ids = new ArrayList<>(EVENTS);
        for (int i = 0; i < EVENTS; i++) {
            ids.add(String.format("evt-%08d", i));
        }
        Files.write(events, ids, StandardCharsets.UTF_8);
        Outcome on = run(client, true, events, new Random(1));
        Outcome off = run(client, false, events, new Random(1));
        System.out.printf("restarts %s: %,d events, %d app SIGKILLs, server SIGKILLs during the 2nd app run and "
                + "after app kills 2 and 7%n"
                + "  dedup on : stored %,d, distinct %,d, duplicates %,d, missing %,d, re-sent %,d (%,d ms)%n"
                + "  dedup off: stored %,d, distinct %,d, duplicates %,d, missing %,d, re-sent %,d (%,d ms)%n",
            client, EVENTS, on.kills(), on.stored(), on.distinct(), on.duplicates(), on.missing(), on.resent(),
            on.millis(), off.stored(), off.distinct(), off.duplicates(), off.missing(), off.resent(), off.millis());
        assertEquals(KILLS, on.kills(), "every planned SIGKILL happened");
        assertEquals(0, on.duplicates(), "dedup on: no duplicates");
        assertEquals(0, on.missing(), "dedup on: no losses");
        // Each kill left at least one checkpoint step (`every` records) stored past the checkpoint (RestartApp).
        long every = Math.max(100, EVENTS / 100);
        assertTrue(on.resent() >= KILLS * every, "dedup on: the kills made the application re-send: " + on);
        assertEquals(KILLS, off.kills());
        assertEquals(0, off.missing(), "control: no losses either (at-least-once)");
        assertTrue(off.resent() >= KILLS * every, "control: the kills made the application re-send: " + off);
        assertEquals(off.resent(), off.duplicates(), "control: every re-sent record is stored again: " + off);
    }
}
