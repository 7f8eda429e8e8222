package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * kafka-clients 3.9 and 4.x consumer groups against an idemlog server, each member a {@link GroupMemberDriver} in its
 * own JVM: three {@code subscribe()} members over 8 partitions, with the range (eager) and the cooperative-sticky
 * assignor. A member joins, one leaves, one is SIGKILLed (the session timeout removes it): every record is consumed
 * at least once, and no partition is owned by two members at once (ownership intervals from the rebalance
 * callbacks, on the machine's one clock, never overlap). Then every member is restarted: they resume exactly at the
 * commitSync'd positions (nothing below them is read again). Then members and server are SIGKILLed and the server
 * restarted: the committed offsets are exactly the last acknowledged commits, and a new member resumes there.
 */
@Tag("slow")
class GroupConsumersInteropTest {
    private static final String TOPIC = "g8";
    private static final int PARTITIONS = 8;
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private final List<Member> members = new ArrayList<>();
    private int nextValue;

    /** One member process and its event file. */
    private final class Member {
        final String name;
        final Path out;
        final Process process;
        final Path log;

        Member(String name, Process process, Path out, Path log) {
            this.name = name;
            this.process = process;
            this.out = out;
            this.log = log;
        }

        List<String> lines() {
            try {
                return Files.exists(out) ? Files.readAllLines(out, StandardCharsets.UTF_8) : List.of();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void stop() throws IOException {
            Files.createFile(Path.of(out + ".stop"));
            if (!ChildJvm.waitFor(process, Duration.ofSeconds(60))) {
                fail(name + " did not stop:\n" + ChildJvm.tail(log, 3000));
            }
        }

        void kill() {
            ChildJvm.kill(process, Duration.ofSeconds(10));
        }
    }

    private Member start(String major, String bootstrap, String group, String assignor, String name,
                         String instanceId, int sessionTimeoutMs) throws IOException {
        Path out = dir.resolve(name + ".events");
        Path log = dir.resolve(name + ".log");
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx256m"),
            KafkaClientsInteropTest.driverClasspath(major), GroupMemberDriver.class.getName(),
            List.of(bootstrap, TOPIC, group, assignor, out.toString(), instanceId, String.valueOf(sessionTimeoutMs))),
            log, "group member " + name);
        Member m = new Member(name, p, out, log);
        members.add(m);
        return m;
    }

    private void produce(String bootstrap, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                int v = nextValue++;
                producer.send(new ProducerRecord<>(TOPIC, v % PARTITIONS, null,
                    ("v" + v).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }

    /** (partition, offset) of every record any member consumed since {@code sinceLine} of each member's file. */
    private Set<Long> consumed() {
        Set<Long> seen = new HashSet<>();
        for (Member m : members) {
            for (String l : m.lines()) {
                if (l.startsWith("rec ")) {
                    String[] f = l.split(" ");
                    seen.add(key(Integer.parseInt(f[1]), Long.parseLong(f[2])));
                }
            }
        }
        return seen;
    }

    private static long key(int partition, long offset) {
        return ((long) partition << 40) | offset;
    }

    private void awaitConsumed(int total, String what) {
        Await.until(() -> what + ": consumed " + consumed().size() + " of " + total + "; members:\n" + tails(),
            WAIT, () -> consumed().size() >= total);
        assertEquals(total, consumed().size(), what + ": consumed records that were never produced");
    }

    private String tails() {
        StringBuilder sb = new StringBuilder();
        for (Member m : members) {
            List<String> lines = m.lines();
            sb.append(m.name).append(" alive=").append(m.process.isAlive()).append(": ")
                .append(lines.subList(Math.max(0, lines.size() - 3), lines.size())).append('\n');
        }
        return sb.toString();
    }

    /**
     * No partition owned by two members at once: each member's ownership of a partition runs from the "assigned"
     * callback to "revoked"/"lost", or to the member's end (its last line: a SIGKILL or a close).
     */
    private void assertNoDoubleOwnership() {
        Map<Integer, List<long[]>> intervals = new TreeMap<>();
        Map<Integer, List<String>> owners = new TreeMap<>();
        for (Member m : members) {
            Map<Integer, Long> since = new HashMap<>();
            long last = 0;
            for (String l : m.lines()) {
                String[] f = l.split(" ");
                if (f[0].equals("assigned") || f[0].equals("revoked") || f[0].equals("lost")
                    || f[0].equals("committed")) {
                    last = Long.parseLong(f[1]);
                }
                if (f.length < 4 || f[3].equals("-")) {
                    continue;
                }
                for (String ps : f[3].split(",")) {
                    int p = Integer.parseInt(ps);
                    if (f[0].equals("assigned")) {
                        since.put(p, Long.parseLong(f[1]));
                    } else if (f[0].equals("revoked") || f[0].equals("lost")) {
                        Long from = since.remove(p);
                        if (from != null) {
                            intervals.computeIfAbsent(p, k -> new ArrayList<>()).add(new long[] {from, last});
                            owners.computeIfAbsent(p, k -> new ArrayList<>()).add(m.name);
                        }
                    }
                }
            }
            for (Map.Entry<Integer, Long> e : since.entrySet()) {
                intervals.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new long[] {e.getValue(),
                    Math.max(last, e.getValue())});
                owners.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(m.name + "(to its end)");
            }
        }
        int checked = 0;
        for (Map.Entry<Integer, List<long[]>> e : intervals.entrySet()) {
            List<long[]> list = e.getValue();
            for (int i = 0; i < list.size(); i++) {
                for (int j = i + 1; j < list.size(); j++) {
                    long[] a = list.get(i);
                    long[] b = list.get(j);
                    boolean overlap = a[0] < b[1] && b[0] < a[1];
                    assertTrue(!overlap, "partition " + e.getKey() + " owned by " + owners.get(e.getKey()).get(i)
                        + " and " + owners.get(e.getKey()).get(j) + " at once");
                    checked++;
                }
            }
        }
        assertTrue(checked > 0, "no ownership changes seen");
    }

    /** The last acknowledged commit of each partition, over every member (by commit time). */
    private Map<Integer, Long> lastCommits() {
        Map<Integer, long[]> best = new TreeMap<>();
        for (Member m : members) {
            for (String l : m.lines()) {
                if (!l.startsWith("committed ")) {
                    continue;
                }
                String[] f = l.split(" ");
                long at = Long.parseLong(f[1]);
                if (f[2].equals("-")) {
                    continue;
                }
                for (String kv : f[2].split(",")) {
                    String[] pv = kv.split("=");
                    int p = Integer.parseInt(pv[0]);
                    long[] prev = best.get(p);
                    if (prev == null || prev[0] <= at) {
                        best.put(p, new long[] {at, Long.parseLong(pv[1])});
                    }
                }
            }
        }
        Map<Integer, Long> out = new TreeMap<>();
        best.forEach((p, v) -> out.put(p, v[1]));
        return out;
    }

    private static Map<Integer, Long> committedOffsets(String bootstrap, String group)
        throws InterruptedException, ExecutionException, TimeoutException {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<Integer, Long> out = new TreeMap<>();
            m.forEach((tp, om) -> {
                if (om != null) {
                    out.put(tp.partition(), om.offset());
                }
            });
            return out;
        }
    }

    /** The lowest offset of each partition that members started at or after {@code from} consumed. */
    private Map<Integer, Long> firstConsumed(List<Member> of) {
        Map<Integer, Long> first = new TreeMap<>();
        for (Member m : of) {
            for (String l : m.lines()) {
                if (l.startsWith("rec ")) {
                    String[] f = l.split(" ");
                    first.merge(Integer.parseInt(f[1]), Long.parseLong(f[2]), Math::min);
                }
            }
        }
        return first;
    }

    private ServerProcess.Builder server() {
        return ServerProcess.builder(dir.resolve("server"))
            .override("create.topics", TOPIC + ":" + PARTITIONS)
            .override("group.initial.rebalance.delay.ms", "0")
            .logFile(dir.resolve("server.log"));
    }

    @ParameterizedTest(name = "kafka-clients {0}.x, {1}")
    @CsvSource({"3, range", "3, cooperative-sticky", "4, range", "4, cooperative-sticky"})
    void threeMembersJoinLeaveCrashRestartAndResumeExactly(String major, String assignor) throws Exception {
        String group = "grp-" + major + "-" + assignor;
        try (ServerProcess server = server().start()) {
            String bootstrap = server.bootstrap();
            try {
                produce(bootstrap, 2000);
                Member a = start(major, bootstrap, group, assignor, "a", "-", 6000);
                Member b = start(major, bootstrap, group, assignor, "b", "-", 6000);
                awaitConsumed(2000, "a and b");
                Member c = start(major, bootstrap, group, assignor, "c", "-", 6000);
                Await.until("c gets partitions", WAIT, () -> c.lines().stream().anyMatch(
                    l -> l.startsWith("assigned ") && !l.endsWith(" -")));
                produce(bootstrap, 2000);
                awaitConsumed(4000, "a, b and c");
                a.stop(); // leaves the group
                produce(bootstrap, 2000);
                awaitConsumed(6000, "after a left");
                b.kill(); // its partitions come back after the session timeout
                produce(bootstrap, 2000);
                awaitConsumed(8000, "after b was SIGKILLed");
                c.stop();
                assertNoDoubleOwnership();

                // every member restarted: they resume at the committed positions
                Map<Integer, Long> committed = committedOffsets(bootstrap, group);
                assertEquals(lastCommits(), committed, "committed offsets = the last acknowledged commits");
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(1000L, committed.get(p), "partition " + p + " committed to its end");
                }
                int before = members.size();
                Member a2 = start(major, bootstrap, group, assignor, "a2", "-", 6000);
                Member b2 = start(major, bootstrap, group, assignor, "b2", "-", 6000);
                Member c2 = start(major, bootstrap, group, assignor, "c2", "-", 6000);
                produce(bootstrap, 800);
                awaitConsumed(8800, "after all members restarted");
                List<Member> restarted = members.subList(before, members.size());
                Map<Integer, Long> first = firstConsumed(restarted);
                assertEquals(committed, first, "restarted members resume exactly at the committed offsets");

                // SIGKILL members and server: the committed offsets survive, exactly
                Await.until("restarted members commit everything", WAIT,
                    () -> lastCommits().values().stream().allMatch(v -> v == 1100L));
                a2.kill();
                b2.kill();
                c2.kill();
                Map<Integer, Long> acked = lastCommits();
                server.kill();
                server.start();
                Await.until("offsets readable after the restart", WAIT, () -> {
                    try {
                        return committedOffsets(server.bootstrap(), group).size() == PARTITIONS;
                    } catch (Exception e) {
                        return false;
                    }
                });
                assertEquals(acked, committedOffsets(server.bootstrap(), group),
                    "after SIGKILL + restart of the server");
                int beforeD = members.size();
                start(major, server.bootstrap(), group, assignor, "d", "-", 6000);
                produce(server.bootstrap(), 800);
                awaitConsumed(9600, "a new member after the server restart");
                assertEquals(acked, firstConsumed(members.subList(beforeD, members.size())),
                    "a new member resumes exactly at the committed offsets after the server restart");
            } finally {
                for (Member m : members) {
                    m.kill();
                }
            }
        }
    }

    /** KIP-345: a static member restarted within the session timeout gets its partitions back, no rebalance. */
    @Test
    void staticMemberRestartedWithinTheSessionTimeoutGetsItsPartitionsBackWithoutARebalance() throws Exception {
        String group = "static";
        try (ServerProcess server = server().start()) {
            String bootstrap = server.bootstrap();
            try {
                produce(bootstrap, 800);
                Member a = start("4", bootstrap, group, "range", "sa", "inst-a", 30_000);
                Member b = start("4", bootstrap, group, "range", "sb", "inst-b", 30_000);
                Member c = start("4", bootstrap, group, "range", "sc", "inst-c", 30_000);
                Await.until("three static members share the partitions", WAIT, () -> {
                    int owning = 0;
                    for (Member m : List.of(a, b, c)) {
                        owning += m.lines().stream().anyMatch(l -> l.startsWith("assigned ") && !l.endsWith(" -"))
                            ? 1 : 0;
                    }
                    return owning == 3 && consumed().size() == 800
                        && lastGeneration(a) == lastGeneration(b) && lastGeneration(b) == lastGeneration(c);
                });
                int generation = lastGeneration(a);
                String aAssigned = lastAssigned(a);
                int bLines = events(b).size();
                int cLines = events(c).size();
                a.kill();
                Member a2 = start("4", bootstrap, group, "range", "sa2", "inst-a", 30_000);
                Await.until("the restarted static member gets partitions", WAIT,
                    () -> a2.lines().stream().anyMatch(l -> l.startsWith("assigned ")));
                produce(bootstrap, 800);
                awaitConsumed(1600, "after the static restart");
                assertEquals(generation, lastGeneration(a2), "same generation: no rebalance");
                assertEquals(aAssigned, lastAssigned(a2), "the same partitions back");
                assertEquals(bLines, events(b).size(), "b saw no rebalance: " + events(b));
                assertEquals(cLines, events(c).size(), "c saw no rebalance: " + events(c));
            } finally {
                for (Member m : members) {
                    m.kill();
                }
            }
        }
    }

    /** A transactional producer is told plainly that transactions are not supported (FindCoordinator type 1). */
    @Test
    void aTransactionalProducerFailsAtOnceSayingTransactionsAreNotSupported() throws Exception {
        try (ServerProcess server = server().start()) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-1");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            long t0 = System.nanoTime();
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                org.apache.kafka.common.KafkaException e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.apache.kafka.common.KafkaException.class, producer::initTransactions);
                String text = String.valueOf(e.getMessage()) + " / " + e.getCause();
                assertTrue(text.contains("idemlog does not support transactions"), text);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 30_000, "failed at once, not after max.block.ms: " + ms + " ms");
        }
    }

    private static List<String> events(Member m) {
        return m.lines().stream().filter(l -> l.startsWith("assigned ") || l.startsWith("revoked ")
            || l.startsWith("lost ")).toList();
    }

    private static int lastGeneration(Member m) {
        List<String> e = m.lines().stream().filter(l -> l.startsWith("assigned ")).toList();
        return e.isEmpty() ? -1 : Integer.parseInt(e.get(e.size() - 1).split(" ")[2]);
    }

    private static String lastAssigned(Member m) {
        List<String> e = m.lines().stream().filter(l -> l.startsWith("assigned ")).toList();
        return e.isEmpty() ? "" : e.get(e.size() - 1).split(" ")[3];
    }
}
