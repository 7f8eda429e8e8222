package io.idemlog.server.group;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A seeded simulation of the coordinator with simulated clients (dynamic and static members that join, sync,
 * heartbeat, commit, leave, crash and restart; answers delivered late and in random interleavings; heartbeats
 * delayed; clock jumps past the session timeout; coordinator restarts that lose what was not yet fsync'd) checked
 * against a model:
 * <ul>
 *   <li>no partition is owned by two live members in one generation (the assignment a member received in SyncGroup);
 *   <li>every JoinGroup answer of one generation names the same leader and protocol, and generations only grow;
 *   <li>committed offsets: what OffsetFetch answers is exactly the last commit each partition was acknowledged for
 *       (also after a restart: acknowledged means durable);
 *   <li>after a quiet period (no faults, every live client heartbeats) the group is Stable with exactly the live
 *       clients as members, all in the coordinator's generation, their assignments covering every partition once;
 *   <li>a SyncGroup, Heartbeat or OffsetCommit is accepted only for the group's current generation (requests are
 *       also delayed in the network: async commits and heartbeats sent in one generation arrive in the next, a
 *       SyncGroup arrives after its client gave up on it and rejoined);
 *   <li>a member that left successfully is no longer a member;
 *   <li>a live member is removed only when its session timed out or a rebalance ran its full rebalance timeout
 *       without it (its UNKNOWN_MEMBER_ID answers are checked against the last time the coordinator heard from it).
 * </ul>
 * {@code docs/ARCHITECTURE.md} lists the coordinator mutations this model was checked to catch.
 * A failure names its seed; rerun one with {@code -Dsim.seed=N} (more runs: {@code -Dsim.runs=N}, default 40).
 */
class GroupCoordinatorSimulationTest {
    private static final String GROUP = "g";
    private static final String SOLO = "solo";
    private static final int PARTITIONS = 8;
    private static final int SESSION_MS = 3000;
    private static final int REBALANCE_MS = 5000;
    private static final int HEARTBEAT_MS = 500;
    private static final GroupConfig CONFIG = new GroupConfig(1000, 60_000, 300, 50, 3_600_000L, 1000L, 4096);

    @Test
    void randomRunsAgreeWithTheModel() {
        String fixed = System.getProperty("sim.seed");
        long base = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        int runs = fixed != null ? 1 : Integer.getInteger("sim.runs", 40);
        for (int i = 0; i < runs; i++) {
            long seed = base + i;
            Sim sim = new Sim(seed);
            try {
                sim.run(2000);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("coordinator simulation failed with seed " + seed
                    + " (rerun: -Dsim.seed=" + seed + "): " + e.getMessage() + "\nlast events:\n"
                    + String.join("\n", sim.trace), e);
            }
        }
    }

    /** The control: a coordinator that forgets to void a generation's assignment is caught by the model. */
    @Test
    void theModelCatchesDoubleOwnership() {
        Map<String, String[]> owners = new HashMap<>();
        Sim.claim(owners, "0:1:3", "a", null);
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
            () -> Sim.claim(owners, "0:1:3", "b", null));
        assertTrue(e.getMessage().contains("owned by two members"));
    }

    private enum Phase { NEED_JOIN, SYNCING, STABLE }

    private static final class Client {
        final int id;
        final String instanceId;
        boolean alive = true;
        String memberId = "";
        int generation = -1;
        Phase phase = Phase.NEED_JOIN;
        boolean inFlight;
        String inFlightWhat = "";
        long nextHeartbeatMs;
        byte[] assignment = new byte[0];
        /** By member id (a client has had several): when the coordinator last renewed its session. */
        final Map<String, Long> contacts = new HashMap<>();
        /** Its SyncGroup waits in the network (it may give up on it and rejoin). */
        boolean syncDelayed;
        /** Bumped when it gives up on a SyncGroup: the late answer of the old one is not delivered. */
        int syncToken;
        /** Its previous generation, and the SyncGroup it sent in it (a stale copy may still arrive), or -1/null. */
        int staleGeneration = -1;
        java.util.function.Consumer<Boolean> staleSync;
        java.util.function.Consumer<Boolean> lastSync;
        final ArrayDeque<Runnable> inbox = new ArrayDeque<>();

        Client(int id, String instanceId) {
            this.id = id;
            this.instanceId = instanceId;
        }

        void rejoin(boolean forgetId) {
            phase = Phase.NEED_JOIN;
            assignment = new byte[0];
            if (forgetId) {
                memberId = "";
            }
        }
    }

    private static final class Sim {
        final long seed;
        final Random rnd;
        final CachedEpochClock clock = new CachedEpochClock();
        final MemoryOffsetJournal journal = new MemoryOffsetJournal();
        GroupCoordinator c;
        int serverEpoch;
        int nextClientId;
        long nextOffset = 1;
        final List<Client> clients = new ArrayList<>();
        /** "epoch:generation:partition" -> {member id, instance id}. */
        final Map<String, String[]> owners = new HashMap<>();
        /** "epoch:generation" -> "leader/protocol". */
        final Map<String, String> generations = new HashMap<>();
        final Map<String, Map<TopicPartition, Long>> model = new HashMap<>();
        final ArrayDeque<String> trace = new ArrayDeque<>();
        /** Requests sent but not yet arrived at the coordinator (delayed in the network), in no particular order. */
        final List<Runnable> network = new ArrayList<>();
        /** Rebalances of this server epoch: {start, end} (end -1 while it lasts). */
        final List<long[]> rebalanceEpisodes = new ArrayList<>();
        /** In a quiet period: nothing is delayed. */
        boolean settling;

        void trace(String event) {
            if (trace.size() == 60) {
                trace.poll();
            }
            trace.add(clock.time() + " e" + serverEpoch + " " + event);
        }
        int checks;

        Sim(long seed) {
            this.seed = seed;
            this.rnd = new Random(seed);
            clock.update(1_000_000L);
            c = newCoordinator();
            model.put(GROUP, new TreeMap<>());
            model.put(SOLO, new TreeMap<>());
        }

        GroupCoordinator newCoordinator() {
            return new GroupCoordinator(CONFIG, clock, journal, tp -> tp.partition() < PARTITIONS, new Random(seed));
        }

        void run(int steps) {
            for (int i = 0; i < 3; i++) {
                addClient();
            }
            for (int i = 1; i <= steps; i++) {
                step();
                if (i % 500 == 0) {
                    settleAndCheck();
                }
            }
            settleAndCheck();
            assertTrue(checks > 0);
        }

        void addClient() {
            int id = nextClientId++;
            clients.add(new Client(id, rnd.nextInt(3) == 0 ? "instance-" + id : null));
        }

        List<Client> alive() {
            List<Client> out = new ArrayList<>();
            for (Client cl : clients) {
                if (cl.alive) {
                    out.add(cl);
                }
            }
            return out;
        }

        Client anyAlive() {
            List<Client> a = alive();
            return a.isEmpty() ? null : a.get(rnd.nextInt(a.size()));
        }

        void step() {
            stepOnce();
            observe();
        }

        /** Records when the group's rebalances start and end (PreparingRebalance), to judge removals. */
        void observe() {
            boolean preparing = c.state(GROUP) == GroupState.PREPARING_REBALANCE;
            long[] last = rebalanceEpisodes.isEmpty() ? null : rebalanceEpisodes.get(rebalanceEpisodes.size() - 1);
            boolean open = last != null && last[1] < 0;
            if (preparing && !open) {
                rebalanceEpisodes.add(new long[] {clock.time(), -1});
            } else if (!preparing && open) {
                last[1] = clock.time();
            }
        }

        /** Whether a member last renewed at {@code contact} may have been removed by now. */
        boolean mayBeRemoved(long contact) {
            long now = clock.time();
            if (now - contact >= SESSION_MS) {
                return true;
            }
            for (long[] e : rebalanceEpisodes) {
                long end = e[1] < 0 ? now : e[1];
                if (end >= contact && end - e[0] >= REBALANCE_MS) {
                    return true;
                }
            }
            // a rebalance that started in this very step (not observed yet) can have lasted no time
            return false;
        }

        /** An UNKNOWN_MEMBER_ID for {@code memberId} of client {@code cl}, answered now: was the removal lawful? */
        void checkRemoval(Client cl, String memberId, String what) {
            Long contact = cl.contacts.get(memberId);
            if (memberId.isEmpty() || contact == null || !cl.alive) {
                return;
            }
            if (!mayBeRemoved(contact)) {
                throw new AssertionError("c" + cl.id + " (" + memberId + ") removed at " + clock.time() + " (" + what
                    + "): its session was renewed at " + contact + " and no rebalance ran its timeout since");
            }
        }

        void stepOnce() {
            int r = rnd.nextInt(100);
            Client cl = anyAlive();
            if (r < 5) {
                if (!network.isEmpty()) {
                    network.remove(rnd.nextInt(network.size())).run(); // a delayed request arrives
                }
                return;
            }
            if (r < 6) {
                // a stale request of the client's previous generation arrives (sent on an old connection)
                if (cl != null && cl.staleGeneration > 0) {
                    int what = rnd.nextInt(3);
                    if (what == 0 && cl.staleSync != null) {
                        trace("c" + cl.id + " stale sync of gen " + cl.staleGeneration + " arrives");
                        cl.staleSync.accept(true);
                    } else if (what == 1) {
                        trace("c" + cl.id + " stale commit of gen " + cl.staleGeneration + " arrives");
                        List<GroupCoordinator.CommitEntry> entries = new ArrayList<>();
                        for (byte p : cl.assignment) {
                            entries.add(new GroupCoordinator.CommitEntry(new TopicPartition("t", p), nextOffset++, 0,
                                "z" + p));
                        }
                        commitNow(cl, cl.staleGeneration, cl.memberId, entries, errors -> {
                        });
                    } else {
                        trace("c" + cl.id + " stale heartbeat of gen " + cl.staleGeneration + " arrives");
                        heartbeatNow(cl, cl.staleGeneration, cl.memberId);
                    }
                }
                return;
            }
            if (r < 7) {
                if (cl != null && cl.phase == Phase.SYNCING && cl.inFlight && cl.syncDelayed) {
                    // its SyncGroup timed out: it rejoins (the old request may still arrive)
                    trace("c" + cl.id + " gives up on its sync");
                    cl.syncToken++;
                    cl.inFlight = false;
                    cl.syncDelayed = false;
                    cl.rejoin(false);
                }
                return;
            }
            if (r < 35) {
                if (cl != null && !cl.inbox.isEmpty()) {
                    cl.inbox.poll().run();
                }
            } else if (r < 60) {
                if (cl != null) {
                    act(cl, true);
                }
            } else if (r < 75) {
                clock.advance(1 + rnd.nextInt(300));
                c.tick();
            } else if (r < 82) {
                journal.sync();
            } else if (r < 84) {
                if (cl != null) {
                    crash(cl);
                }
            } else if (r < 86) {
                if (cl != null && !cl.memberId.isEmpty() && !cl.inFlight) {
                    cl.alive = false; // leaving: what its removal answers is no longer a surprise
                    GroupCoordinator.LeaveResult res = c.leave(GROUP,
                        List.of(new GroupCoordinator.MemberIdentity(cl.memberId, cl.instanceId)));
                    assertEquals(ErrorCode.NONE, res.error());
                    if (res.memberErrors().get(0) == ErrorCode.NONE) {
                        assertTrue(!c.memberIds(GROUP).contains(cl.memberId), "c" + cl.id + " left ("
                            + cl.memberId + ") but is still a member");
                    } else if (res.memberErrors().get(0) == ErrorCode.UNKNOWN_MEMBER_ID) {
                        cl.alive = true;
                        checkRemoval(cl, cl.memberId, "leave");
                        cl.alive = false;
                    }
                    cl.inbox.clear();
                }
            } else if (r < 90) {
                if (alive().size() < 6) {
                    addClient();
                }
            } else if (r < 91) {
                clock.advance(SESSION_MS + rnd.nextInt(SESSION_MS)); // a clock jump (or a long GC pause)
                c.tick();
            } else if (r < 94) {
                checkFetch(GROUP);
            } else if (r < 96) {
                soloCommit();
            } else if (r < 97) {
                restartServer();
            } else if (r < 98 && cl != null && cl.instanceId != null) {
                // a static member restarted: the same group.instance.id, a fresh process without a member id
                crash(cl);
                Client again = new Client(nextClientId++, cl.instanceId);
                clients.add(again);
            } else {
                journal.sync();
                c.tick();
            }
        }

        void crash(Client cl) {
            trace("c" + cl.id + " crashes");
            cl.alive = false;
            cl.inbox.clear();
        }

        /** A request the client sends now: it arrives now, or (when it may be delayed) later. */
        void send(boolean delayed, Runnable request) {
            if (delayed && !settling) {
                network.add(request);
            } else {
                request.run();
            }
        }

        void restartServer() {
            // what was not fsync'd is lost; callbacks of the old coordinator never arrive (connections dropped)
            serverEpoch++;
            trace("server restart");
            journal.crash();
            network.clear(); // the connections are gone
            rebalanceEpisodes.clear();
            c = newCoordinator();
            c.load(journal.load(), journal.loadedGroups());
            for (Client cl : clients) {
                cl.inbox.clear();
                cl.inFlight = false;
                cl.contacts.clear();
                cl.syncDelayed = false;
                cl.staleGeneration = -1;
                cl.staleSync = null;
                cl.lastSync = null;
                if (cl.phase == Phase.SYNCING) {
                    cl.rejoin(false);
                }
            }
            checkFetch(GROUP);
            checkFetch(SOLO);
        }

        /** One thing the client does now, if it is not waiting for an answer. */
        void act(Client cl, boolean mayDelay) {
            if (cl.inFlight) {
                return;
            }
            int epoch = serverEpoch;
            switch (cl.phase) {
                case NEED_JOIN -> {
                    cl.inFlight = true;
                    cl.inFlightWhat = "join@" + clock.time();
                    c.join(new GroupCoordinator.JoinRequest(GROUP, cl.memberId, cl.instanceId, "c" + cl.id,
                        "/127.0.0.1", SESSION_MS, REBALANCE_MS, "consumer",
                        List.of(new GroupCoordinator.Protocol("range", new byte[] {1})), true, true),
                        res -> {
                            if (res.error() == ErrorCode.NONE) {
                                // answered now (not when delivered): the group's current generation, never older
                                assertEquals(c.generation(GROUP), res.generationId(), "JoinGroup generation");
                                assertTrue(res.generationId() > 0, "generation " + res.generationId());
                            }
                            if (epoch == serverEpoch) {
                                if (res.error() == ErrorCode.NONE) {
                                    // (a MEMBER_ID_REQUIRED id is pending, not a member: nothing to renew)
                                    cl.contacts.put(res.memberId(), clock.time());
                                } else if (res.error() == ErrorCode.UNKNOWN_MEMBER_ID) {
                                    checkRemoval(cl, res.memberId(), "join");
                                }
                            }
                            deliver(cl, epoch, () -> onJoin(cl, res));
                        });
                }
                case SYNCING -> {
                    // only while its SyncGroup is in flight (inFlight); a lost answer makes a client rejoin
                    cl.rejoin(false);
                }
                case STABLE -> {
                    if (clock.time() >= cl.nextHeartbeatMs) {
                        if (mayDelay && rnd.nextInt(4) == 0) {
                            cl.nextHeartbeatMs += rnd.nextInt(SESSION_MS); // a delayed heartbeat
                            return;
                        }
                        if (mayDelay && rnd.nextInt(6) == 0) {
                            // sent by a heartbeat thread, delayed in the network; the client carries on meanwhile
                            int gen = cl.generation;
                            String id = cl.memberId;
                            cl.nextHeartbeatMs = clock.time() + HEARTBEAT_MS;
                            send(true, () -> {
                                ErrorCode e = heartbeatNow(cl, gen, id);
                                if (cl.alive && cl.phase == Phase.STABLE && cl.generation == gen
                                    && cl.memberId.equals(id)) {
                                    onHeartbeat(cl, e);
                                }
                            });
                            return;
                        }
                        onHeartbeat(cl, heartbeatNow(cl, cl.generation, cl.memberId));
                    } else if (cl.assignment.length > 0 && rnd.nextInt(3) == 0) {
                        if (mayDelay && rnd.nextInt(3) == 0) {
                            asyncCommit(cl);
                        } else {
                            commit(cl);
                        }
                    }
                }
            }
        }

        /** A heartbeat arriving now, with the generation and member id it was sent with. */
        ErrorCode heartbeatNow(Client cl, int gen, String id) {
            ErrorCode e = c.heartbeat(GROUP, gen, id, cl.instanceId);
            if (e == ErrorCode.NONE) {
                assertEquals(c.generation(GROUP), gen, "a Heartbeat accepted for another generation than the group's");
            }
            if (e == ErrorCode.NONE || e == ErrorCode.REBALANCE_IN_PROGRESS) {
                cl.contacts.put(id, clock.time());
            } else if (e == ErrorCode.UNKNOWN_MEMBER_ID) {
                checkRemoval(cl, id, "heartbeat");
            }
            return e;
        }

        void deliver(Client cl, int epoch, Runnable r) {
            if (epoch == serverEpoch && cl.alive) {
                cl.inbox.add(r);
            }
        }

        void onJoin(Client cl, GroupCoordinator.JoinResult res) {
            cl.inFlight = false;
            trace("c" + cl.id + " join " + res.error() + " gen " + res.generationId() + " member " + res.memberId()
                + " leader " + res.leaderId() + " members " + res.members().size() + " skip " + res.skipAssignment());
            switch (res.error()) {
                case MEMBER_ID_REQUIRED -> {
                    cl.memberId = res.memberId();
                    cl.phase = Phase.NEED_JOIN;
                }
                case NONE -> {
                    if (cl.generation > 0 && cl.generation != res.generationId()) {
                        cl.staleGeneration = cl.generation;
                        cl.staleSync = cl.lastSync;
                    }
                    cl.memberId = res.memberId();
                    cl.generation = res.generationId();
                    String key = serverEpoch + ":" + res.generationId();
                    String what = res.leaderId() + "/" + res.protocolName();
                    String before = generations.putIfAbsent(key, what);
                    if (before != null && !before.equals(what)) {
                        // a static leader's replacement renames the leader within a generation: same instance
                        assertTrue(res.skipAssignment() || before.endsWith("/" + res.protocolName()),
                            "generation " + key + " answered with " + what + " and " + before);
                        generations.put(key, what);
                    }
                    Map<String, byte[]> assignments = new HashMap<>();
                    if (res.leaderId().equals(cl.memberId) && !res.skipAssignment()) {
                        List<String> ids = new ArrayList<>();
                        for (GroupCoordinator.JoinMember m : res.members()) {
                            ids.add(m.memberId());
                        }
                        assertTrue(ids.contains(cl.memberId), "the leader's member list lacks the leader");
                        ids.sort(null);
                        Map<String, List<Integer>> parts = new HashMap<>();
                        for (int p = 0; p < PARTITIONS; p++) {
                            parts.computeIfAbsent(ids.get(p % ids.size()), k -> new ArrayList<>()).add(p);
                        }
                        for (Map.Entry<String, List<Integer>> e : parts.entrySet()) {
                            byte[] a = new byte[e.getValue().size()];
                            for (int i = 0; i < a.length; i++) {
                                a[i] = (byte) (int) e.getValue().get(i);
                            }
                            assignments.put(e.getKey(), a);
                        }
                    }
                    cl.phase = Phase.SYNCING;
                    cl.inFlight = true;
                    cl.inFlightWhat = "sync@" + clock.time();
                    int epoch = serverEpoch;
                    int token = cl.syncToken;
                    String id = cl.memberId;
                    cl.syncDelayed = rnd.nextInt(8) == 0;
                    // replay: a stale copy arriving later; its answer only goes through the model's checks
                    java.util.function.Consumer<Boolean> request = replay -> {
                        long sent = clock.time();
                        c.sync(new GroupCoordinator.SyncRequest(GROUP, res.generationId(), id, cl.instanceId,
                            "consumer", res.protocolName(), assignments), s -> {
                                if (s.error() == ErrorCode.NONE) {
                                    assertEquals(c.generation(GROUP), res.generationId(),
                                        "a SyncGroup answered for another generation than the group's");
                                    assertEquals(GroupState.STABLE, c.state(GROUP), "SyncGroup answered, not Stable");
                                    if (!replay) {
                                        cl.contacts.merge(id, sent, Math::max);
                                    }
                                } else if (s.error() == ErrorCode.UNKNOWN_MEMBER_ID && epoch == serverEpoch) {
                                    checkRemoval(cl, id, "sync");
                                }
                                if (!replay && token == cl.syncToken) {
                                    deliver(cl, epoch, () -> onSync(cl, res.generationId(), res.leaderId(), s));
                                }
                            });
                    };
                    cl.lastSync = request;
                    send(cl.syncDelayed, () -> request.accept(false));
                }
                case UNKNOWN_MEMBER_ID -> cl.rejoin(true);
                case FENCED_INSTANCE_ID -> crash(cl); // a newer process of the same instance took over
                case REBALANCE_IN_PROGRESS -> cl.rejoin(false);
                default -> fail("unexpected JoinGroup error " + res.error());
            }
        }

        void onSync(Client cl, int generation, String leader, GroupCoordinator.SyncResult res) {
            cl.inFlight = false;
            cl.syncDelayed = false;
            trace("c" + cl.id + " sync " + res.error() + " gen " + generation + " member " + cl.memberId + " got "
                + java.util.Arrays.toString(res.assignment()));
            switch (res.error()) {
                case NONE -> {
                    cl.assignment = res.assignment();
                    for (byte p : cl.assignment) {
                        // an empty group without offsets is removed, and a new one starts again at generation 1:
                        // the generation's leader tells the incarnations apart
                        claim(owners, serverEpoch + ":" + generation + ":" + leader + ":" + p, cl.memberId,
                            cl.instanceId);
                    }
                    cl.phase = Phase.STABLE;
                    cl.nextHeartbeatMs = clock.time() + HEARTBEAT_MS;
                }
                case UNKNOWN_MEMBER_ID -> cl.rejoin(true);
                case FENCED_INSTANCE_ID -> crash(cl);
                case REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION -> cl.rejoin(false);
                default -> fail("unexpected SyncGroup error " + res.error());
            }
        }

        static void claim(Map<String, String[]> owners, String key, String memberId, String instanceId) {
            String[] prev = owners.putIfAbsent(key, new String[] {memberId, instanceId});
            if (prev != null && !prev[0].equals(memberId)
                && !(instanceId != null && instanceId.equals(prev[1]))) {
                throw new AssertionError("partition " + key + " owned by two members: " + prev[0] + " and "
                    + memberId);
            }
            if (prev != null) {
                owners.put(key, new String[] {memberId, instanceId});
            }
        }

        void onHeartbeat(Client cl, ErrorCode e) {
            switch (e) {
                case NONE -> cl.nextHeartbeatMs = clock.time() + HEARTBEAT_MS;
                case REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION -> cl.rejoin(false);
                case UNKNOWN_MEMBER_ID -> cl.rejoin(true);
                case FENCED_INSTANCE_ID -> crash(cl);
                default -> fail("unexpected Heartbeat error " + e);
            }
        }

        void commit(Client cl) {
            List<GroupCoordinator.CommitEntry> entries = new ArrayList<>();
            for (byte p : cl.assignment) {
                entries.add(new GroupCoordinator.CommitEntry(new TopicPartition("t", p), nextOffset++, 0, "m" + p));
            }
            cl.inFlight = true;
            cl.inFlightWhat = "commit@" + clock.time();
            int epoch = serverEpoch;
            commitNow(cl, cl.generation, cl.memberId, entries, errors -> deliver(cl, epoch, () -> onCommit(cl, errors)));
        }

        /** commitAsync: sent now, delayed in the network; the client goes on (and may rejoin) meanwhile. */
        void asyncCommit(Client cl) {
            List<GroupCoordinator.CommitEntry> entries = new ArrayList<>();
            for (byte p : cl.assignment) {
                entries.add(new GroupCoordinator.CommitEntry(new TopicPartition("t", p), nextOffset++, 0, "a" + p));
            }
            int gen = cl.generation;
            String id = cl.memberId;
            send(true, () -> commitNow(cl, gen, id, entries, errors -> {
            }));
        }

        /** An OffsetCommit arriving now; only the group's current generation may commit. */
        void commitNow(Client cl, int gen, String id, List<GroupCoordinator.CommitEntry> entries,
                       java.util.function.Consumer<List<ErrorCode>> then) {
            int before = journal.pendingCount();
            c.commitOffsets(new GroupCoordinator.CommitRequest(GROUP, gen, id, cl.instanceId, entries, -1, -1),
                errors -> {
                    // acknowledged: from now on a fetch must see it
                    for (int i = 0; i < entries.size(); i++) {
                        if (errors.get(i) == ErrorCode.NONE) {
                            model.get(GROUP).put(entries.get(i).tp(), entries.get(i).offset());
                        }
                    }
                    then.accept(errors);
                });
            // the coordinator validates at once (its journal has the puts): it accepted for its generation of now
            if (journal.pendingCount() > before) {
                assertEquals(c.generation(GROUP), gen, "an OffsetCommit accepted from another generation than the "
                    + "group's (a zombie's commit)");
                cl.contacts.put(id, clock.time());
            }
        }

        void onCommit(Client cl, List<ErrorCode> errors) {
            cl.inFlight = false;
            for (ErrorCode e : errors) {
                switch (e) {
                    case NONE -> {
                    }
                    case REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION -> cl.rejoin(false);
                    case UNKNOWN_MEMBER_ID -> cl.rejoin(true);
                    case FENCED_INSTANCE_ID -> crash(cl);
                    default -> fail("unexpected OffsetCommit error " + e);
                }
            }
        }

        void soloCommit() {
            TopicPartition tp = new TopicPartition("t", rnd.nextInt(PARTITIONS));
            long offset = nextOffset++;
            c.commitOffsets(new GroupCoordinator.CommitRequest(SOLO, -1, "", null,
                List.of(new GroupCoordinator.CommitEntry(tp, offset, -1, null)), -1, -1), errors -> {
                    assertEquals(List.of(ErrorCode.NONE), errors, "a group that only commits is always Empty");
                    model.get(SOLO).put(tp, offset);
                });
        }

        void checkFetch(String group) {
            c.fetchOffsets(group, null, res -> {
                Map<TopicPartition, Long> got = new TreeMap<>();
                for (GroupCoordinator.FetchedOffset f : res.offsets()) {
                    got.put(f.tp(), f.offset());
                }
                assertEquals(new TreeMap<>(model.get(group)), got, "committed offsets of " + group);
                checks++;
            });
        }

        /** No more faults: every live client keeps up; the group must become Stable with exactly them. */
        void settleAndCheck() {
            settling = true;
            while (!network.isEmpty()) {
                network.remove(0).run(); // what was on its way arrives
            }
            for (int i = 0; i < 600 && !converged(); i++) {
                observe();
                clock.advance(100);
                c.tick();
                journal.sync();
                for (Client cl : alive()) {
                    while (!cl.inbox.isEmpty()) {
                        cl.inbox.poll().run();
                    }
                }
                for (Client cl : alive()) {
                    act(cl, false);
                }
            }
            if (!converged()) {
                fail("did not settle by " + clock.time() + ": state " + c.state(GROUP) + " generation " + c.generation(GROUP)
                    + " members " + c.memberIds(GROUP) + " clients " + describe());
            }
            checkFetch(GROUP);
            checkFetch(SOLO);
            journal.sync();
            checks++;
            settling = false;
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            for (Client cl : alive()) {
                sb.append(cl.id).append('=').append(cl.memberId).append('/').append(cl.phase).append('/')
                    .append(cl.generation).append(cl.inFlight ? "/inflight:" + cl.inFlightWhat : "").append(' ');
            }
            return sb.toString();
        }

        boolean converged() {
            List<Client> live = alive();
            if (live.isEmpty()) {
                GroupState s = c.state(GROUP);
                return c.memberIds(GROUP).isEmpty() && (s == null || s == GroupState.EMPTY);
            }
            if (c.state(GROUP) != GroupState.STABLE) {
                return false;
            }
            Set<String> ids = new HashSet<>();
            Set<Integer> covered = new TreeSet<>();
            int total = 0;
            for (Client cl : live) {
                if (cl.phase != Phase.STABLE || cl.inFlight || cl.generation != c.generation(GROUP)) {
                    return false;
                }
                ids.add(cl.memberId);
                for (byte p : cl.assignment) {
                    covered.add((int) p);
                    total++;
                }
            }
            return ids.equals(new HashSet<>(c.memberIds(GROUP))) && covered.size() == PARTITIONS
                && total == PARTITIONS && Objects.equals(c.state(GROUP), GroupState.STABLE);
        }
    }
}
