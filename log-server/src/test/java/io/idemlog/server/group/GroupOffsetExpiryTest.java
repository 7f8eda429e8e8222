package io.idemlog.server.group;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Committed-offset expiry (offsets.retention.minutes) as Kafka decides it, on an injected clock: an Empty group's
 * offsets expire a retention after it became Empty, a member-less group's by their commit times, a Stable consumer
 * group keeps the offsets of the topics it subscribes to and loses the others; an explicit v2-v4 retention time
 * wins; an Empty group left without offsets is Dead and gone from ListGroups. With the file journal: the deletions
 * and the time a group became Empty survive restarts (a restart neither brings expired offsets back nor starts
 * their retention again).
 */
class GroupOffsetExpiryTest {
    private static final long RETENTION = 60_000;
    private static final int SESSION = 10_000;
    private static final GroupConfig CONFIG = new GroupConfig(1000, 60_000, 0, 50, RETENTION, 1000L, 4096);
    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition B0 = new TopicPartition("b", 0);

    @TempDir
    Path dir;

    private final CachedEpochClock clock = new CachedEpochClock();
    private OffsetJournal journal = new MemoryOffsetJournal();
    private GroupCoordinator c;
    private String member;
    private int generation;

    GroupOffsetExpiryTest() {
        clock.update(1_000_000L);
        c = newCoordinator();
    }

    @AfterEach
    void close() throws IOException {
        journal.close();
    }

    private GroupCoordinator newCoordinator() {
        return new GroupCoordinator(CONFIG, clock, journal, tp -> true, new Random(1));
    }

    /** A restart on the file journal: the coordinator and its journal are closed (or crash) and read back. */
    private void restart(boolean crash) throws IOException {
        if (!crash) {
            journal.close();
        }
        journal = new FileOffsetJournal(dir, 1 << 20);
        c = newCoordinator();
        c.load(journal.load(), journal.loadedGroups());
        journal.sync();
        member = null;
    }

    private void useFileJournal() throws IOException {
        journal = new FileOffsetJournal(dir, 1 << 20);
        journal.load();
        c = newCoordinator();
    }

    /** A consumer-protocol subscription (ConsumerProtocolSubscription v0) to {@code topics}. */
    private static byte[] subscription(String... topics) {
        ByteBuffer b = ByteBuffer.allocate(256);
        b.putShort((short) 0).putInt(topics.length);
        for (String t : topics) {
            byte[] name = t.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) name.length).put(name);
        }
        b.putInt(-1); // no user data
        b.flip();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** One member joins {@code group} subscribing to {@code topics} and syncs: the group is Stable. */
    private void joinAndSync(String group, String... topics) {
        List<GroupCoordinator.JoinResult> joined = new ArrayList<>();
        c.join(new GroupCoordinator.JoinRequest(group, "", null, "client", "/127.0.0.1", SESSION, SESSION,
            "consumer", List.of(new GroupCoordinator.Protocol("range", subscription(topics))), false, true),
            joined::add);
        c.tick(); // the initial delay (0) has passed
        assertEquals(1, joined.size());
        assertEquals(ErrorCode.NONE, joined.get(0).error());
        member = joined.get(0).memberId();
        generation = joined.get(0).generationId();
        List<GroupCoordinator.SyncResult> synced = new ArrayList<>();
        c.sync(new GroupCoordinator.SyncRequest(group, generation, member, null, "consumer", "range",
            Map.of(member, new byte[] {1})), synced::add);
        assertEquals(ErrorCode.NONE, synced.get(0).error());
        assertEquals(GroupState.STABLE, c.state(group));
    }

    /** Advances the clock to {@code until} in 1 s steps, the member heartbeating at each (its session lives on). */
    private void heartbeatUntil(String group, long until) {
        while (clock.time() < until) {
            clock.advance(Math.min(1000, until - clock.time()));
            assertEquals(ErrorCode.NONE, c.heartbeat(group, generation, member, null));
            c.tick();
            journal.sync();
        }
    }

    /** Advances the clock to {@code until} in 1 s steps, nobody heartbeating. */
    private void idleUntil(long until) {
        while (clock.time() < until) {
            clock.advance(Math.min(1000, until - clock.time()));
            c.tick();
            journal.sync();
        }
    }

    private void commit(String group, int gen, String memberId, long retentionMs, TopicPartition... tps) {
        List<GroupCoordinator.CommitEntry> entries = new ArrayList<>();
        for (TopicPartition tp : tps) {
            entries.add(new GroupCoordinator.CommitEntry(tp, 42, -1, "m"));
        }
        List<List<ErrorCode>> answers = new ArrayList<>();
        c.commitOffsets(new GroupCoordinator.CommitRequest(group, gen, memberId, null, entries, -1, retentionMs),
            answers::add);
        journal.sync();
        assertEquals(1, answers.size());
        for (ErrorCode e : answers.get(0)) {
            assertEquals(ErrorCode.NONE, e);
        }
    }

    private void soloCommit(String group, TopicPartition... tps) {
        commit(group, -1, "", -1, tps);
    }

    private Map<TopicPartition, Long> fetch(String group) {
        Map<TopicPartition, Long> out = new TreeMap<>();
        c.fetchOffsets(group, null, res -> res.offsets().forEach(o -> out.put(o.tp(), o.offset())));
        return out;
    }

    private boolean listed(String group) {
        return c.listGroups(List.of(), List.of()).stream().anyMatch(l -> l.groupId().equals(group));
    }

    private void leave(String group) {
        assertEquals(ErrorCode.NONE, c.leave(group, List.of(new GroupCoordinator.MemberIdentity(member, null)))
            .memberErrors().get(0));
        assertEquals(GroupState.EMPTY, c.state(group));
    }

    @Test
    void aMemberlessGroupsOffsetsExpireEachByItsCommitTime() {
        long t0 = clock.time();
        soloCommit("solo", A0);
        idleUntil(t0 + 30_000);
        soloCommit("solo", B0);
        idleUntil(t0 + RETENTION - 1000);
        assertEquals(Map.of(A0, 42L, B0, 42L), fetch("solo"));
        idleUntil(t0 + RETENTION);
        assertEquals(Map.of(B0, 42L), fetch("solo"), "a/0 a retention after its commit, b/0 not yet");
        assertTrue(listed("solo"));
        idleUntil(t0 + 30_000 + RETENTION);
        assertEquals(Map.of(), fetch("solo"));
        assertNull(c.state("solo"), "an Empty group without offsets is removed");
        assertTrue(!listed("solo"));
        assertEquals(GroupState.DEAD.wireName, c.describeGroups(List.of("solo")).get(0).state());
    }

    @Test
    void anEmptyGroupsOffsetsExpireARetentionAfterItBecameEmpty() {
        long t0 = clock.time();
        joinAndSync("g", "a");
        commit("g", generation, member, -1, A0);
        heartbeatUntil("g", t0 + 2 * RETENTION); // the commit is old, but the group has a member
        assertEquals(Map.of(A0, 42L), fetch("g"));
        leave("g");
        long emptied = clock.time();
        idleUntil(emptied + RETENTION - 1000);
        assertEquals(Map.of(A0, 42L), fetch("g"), "kept: the group has been Empty for less than the retention");
        assertTrue(listed("g"));
        idleUntil(emptied + RETENTION);
        assertEquals(Map.of(), fetch("g"));
        assertNull(c.state("g"));
        assertTrue(!listed("g"), "Dead and gone from ListGroups");
    }

    @Test
    void aStableConsumerGroupKeepsItsSubscribedTopicsOffsetsAndLosesTheOthers() {
        long t0 = clock.time();
        joinAndSync("g", "a");
        commit("g", generation, member, -1, A0, B0);
        heartbeatUntil("g", t0 + RETENTION - 1000);
        assertEquals(Map.of(A0, 42L, B0, 42L), fetch("g"));
        heartbeatUntil("g", t0 + RETENTION);
        assertEquals(Map.of(A0, 42L), fetch("g"), "b is not subscribed: its offset expires by its commit time");
        heartbeatUntil("g", t0 + 3 * RETENTION);
        assertEquals(Map.of(A0, 42L), fetch("g"), "a is subscribed: never expires while the group is Stable");
        assertEquals(GroupState.STABLE, c.state("g"));
    }

    @Test
    void anUnreadableSubscriptionExpiresNothingWhileTheGroupHasMembers() {
        long t0 = clock.time();
        List<GroupCoordinator.JoinResult> joined = new ArrayList<>();
        c.join(new GroupCoordinator.JoinRequest("g", "", null, "client", "/127.0.0.1", SESSION, SESSION,
            "consumer", List.of(new GroupCoordinator.Protocol("range", new byte[] {0, 0, 0})), false, true),
            joined::add);
        c.tick();
        member = joined.get(0).memberId();
        generation = joined.get(0).generationId();
        c.sync(new GroupCoordinator.SyncRequest("g", generation, member, null, "consumer", "range", Map.of()),
            r -> assertEquals(ErrorCode.NONE, r.error()));
        commit("g", generation, member, -1, B0);
        heartbeatUntil("g", t0 + 2 * RETENTION);
        assertEquals(Map.of(B0, 42L), fetch("g"), "Kafka: subscriptions unknown, no offset expires");
    }

    @Test
    void anExplicitRetentionTimeWins() {
        long t0 = clock.time();
        commit("solo", -1, "", 10_000, A0); // OffsetCommit v2-v4 retention_time_ms
        soloCommit("solo", B0);
        idleUntil(t0 + 10_000);
        assertEquals(Map.of(B0, 42L), fetch("solo"));
    }

    @Test
    void anEmptyGroupsRetentionCountsFromWhenItBecameEmptyAcrossRestarts() throws IOException {
        useFileJournal();
        joinAndSync("g", "a");
        commit("g", generation, member, -1, A0);
        leave("g");
        journal.sync();
        long emptied = clock.time();
        soloCommit("solo", B0); // committed at the same time, expires by its commit time
        idleUntil(emptied + RETENTION / 2);
        restart(false);
        assertEquals(Map.of(A0, 42L), fetch("g"));
        assertEquals("consumer", c.listGroups(List.of(), List.of()).stream()
            .filter(l -> l.groupId().equals("g")).findFirst().orElseThrow().protocolType());
        idleUntil(emptied + RETENTION - 1000);
        restart(true); // SIGKILL: nothing but what was fsync'd
        idleUntil(emptied + RETENTION);
        assertEquals(Map.of(), fetch("g"), "a retention after the group became Empty, not after the restarts");
        assertEquals(Map.of(), fetch("solo"), "a retention after the commit, not after the restarts");
        assertTrue(!listed("g") && !listed("solo"));
        restart(true);
        assertEquals(Map.of(), fetch("g"), "the expiry was journaled: a restart does not bring the offsets back");
        assertEquals(Map.of(), fetch("solo"));
        assertNull(c.state("g"));
        assertTrue(journal.loadedGroups().isEmpty(), "the expired group's record is deleted too");
    }

    @Test
    void aGroupWithMembersWhenTheServerStoppedIsEmptyFromTheRestart() throws IOException {
        useFileJournal();
        long t0 = clock.time();
        joinAndSync("g", "a");
        commit("g", generation, member, -1, A0);
        heartbeatUntil("g", t0 + 2 * RETENTION);
        restart(true); // the member was still there
        long restarted = clock.time();
        assertEquals(GroupState.EMPTY, c.state("g"));
        idleUntil(restarted + RETENTION / 2);
        restart(true);
        idleUntil(restarted + RETENTION - 1000);
        assertEquals(Map.of(A0, 42L), fetch("g"), "Empty since the first restart: kept a retention from then");
        idleUntil(restarted + RETENTION);
        assertEquals(Map.of(), fetch("g"));
    }

    @Test
    void aRecreatedMemberlessGroupDoesNotInheritAnExpiredGroupsRecord() throws IOException {
        useFileJournal();
        joinAndSync("g", "a");
        commit("g", generation, member, -1, A0);
        leave("g");
        long emptied = clock.time();
        idleUntil(emptied + RETENTION);
        assertNull(c.state("g"));
        soloCommit("g", B0); // the same id, now without members: expires by commit time
        long committed = clock.time();
        restart(true);
        idleUntil(committed + RETENTION - 1000);
        assertEquals(Map.of(B0, 42L), fetch("g"));
        idleUntil(committed + RETENTION);
        assertEquals(Map.of(), fetch("g"));
    }
}
