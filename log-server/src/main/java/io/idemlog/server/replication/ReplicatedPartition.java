package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.log.AppendCallback;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.DurabilityCallback;
import io.idemlog.server.log.DurabilityListener;
import io.idemlog.server.log.EpochEndOffset;
import io.idemlog.server.log.FlushDuty;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import io.idemlog.server.log.ReadResult;
import io.idemlog.server.log.ReplicaStorage;
import io.idemlog.server.state.ProducerEntryVisitor;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A partition replicated by its Ratis group (docs/REPLICATION.md 4.2-4.6): what the request handlers use in cluster
 * mode. Appends are submitted to this node's division of the group (so only when it leads) and answered with the
 * {@link AppendResult} that apply computed: after the entry is committed (in the Raft logs of a majority, each
 * fsync'd: Ratis's default log policy, never its unsafe flush) and applied here. acks=1 is answered the same way
 * (offsets exist only after apply). Reads are served by the leader from the applied storage, up to its high
 * watermark.
 *
 * <p>Roles: {@link PartitionRole#LEADER} only when this division leads AND is ready (its start entry applied, so
 * the producer state is complete) AND heard from a majority within the election timeout (a leader cut off from its
 * followers answers NOT_LEADER_OR_FOLLOWER instead of holding writes it cannot commit); otherwise FOLLOWER; OFFLINE when the storage is closed (a snapshot install).
 */
public final class ReplicatedPartition implements Partition {
    private final PartitionGroups groups;
    private final PartitionStateMachine sm;
    private final int nodeId;
    private final RecordBatch checkBatch = new RecordBatch();

    ReplicatedPartition(PartitionGroups groups, PartitionStateMachine sm, int nodeId) {
        this.groups = groups;
        this.sm = sm;
        this.nodeId = nodeId;
        long election = groups.electionTimeoutMs();
        this.stuckFollowers = new StuckFollowerDetector(Math.max(STUCK_FOLLOWER_MIN_MS, 10 * election),
            2 * election);
    }

    /** The shortest time a follower's match index must stand still before this leader steps down for it. */
    static final long STUCK_FOLLOWER_MIN_MS = 15_000L;
    private final StuckFollowerDetector stuckFollowers;

    /**
     * The leader's periodic look at its followers ({@link StuckFollowerDetector}): a follower that answers but whose
     * match index has not moved for a long time although the entries it needs are in this leader's log makes this
     * leader step down (logged with what Ratis reports), so that a new leadership, with fresh follower state, brings
     * it back. Called by PartitionGroups every second; nothing when this node does not lead.
     */
    void checkFollowers(long nowMs) {
        RaftServer.Division d = division();
        if (d == null || !d.getInfo().isLeader()) {
            stuckFollowers.reset();
            return;
        }
        DivisionInfo info = d.getInfo();
        long[] match = info.getFollowerMatchIndices();
        RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
        if (match == null || !role.hasLeaderInfo()) {
            stuckFollowers.reset();
            return;
        }
        java.util.List<RaftProtos.ServerRpcProto> followers = role.getLeaderInfo().getFollowerInfoList();
        long[] lastRpc = new long[followers.size()];
        for (int i = 0; i < lastRpc.length; i++) {
            lastRpc[i] = followers.get(i).getLastRpcElapsedTimeMs();
        }
        long commit = d.getRaftLog().getLastCommittedIndex();
        long start = d.getRaftLog().getStartIndex();
        int stuck = stuckFollowers.observe(nowMs, match, lastRpc, commit, start);
        if (stuck < 0) {
            return;
        }
        String who = stuck < followers.size() ? followers.get(stuck).getId().getId().toStringUtf8() : "?";
        LOG.warn("{}: follower {} answers but its match index {} has not moved while the commit index is {} (log "
            + "starts at {}, next indices {}): this leader steps down so that a new leadership catches it up", this,
            who, match[stuck], commit, start, java.util.Arrays.toString(info.getFollowerNextIndices()));
        RaftServer server = sm.raftServer();
        try {
            server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(groups.clientId(),
                server.getId(), sm.getGroupId(), groups.nextCallId(), null, groups.electionTimeoutMs() * 5))
                .whenComplete((r, e) -> {
                    if (e != null || (r != null && !r.isSuccess())) {
                        LOG.warn("{}: the step-down for a stuck follower failed: {}", this,
                            e != null ? e : r.getException());
                    }
                });
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: the step-down for a stuck follower failed", this, e);
        }
    }

    PartitionStateMachine stateMachine() {
        return sm;
    }

    public PartitionDescriptor descriptor() {
        return sm.descriptor();
    }

    /** Whether this node's division leads the group and is ready in Raft's sense (whatever {@link #role} says). */
    boolean raftLeaderReady() {
        RaftServer.Division d = division();
        return d != null && d.getInfo().isLeader() && d.getInfo().isLeaderReady();
    }

    private RaftServer.Division division() {
        RaftServer server = sm.raftServer();
        if (server == null) {
            return null;
        }
        try {
            return server.getDivision(sm.getGroupId());
        } catch (IOException e) {
            return null;
        }
    }

    /** The storage, or null while closed. */
    private Partition storage() {
        ReplicaStorage.Log l = sm.log();
        return l == null ? null : l.partition();
    }

    @Override
    public String topic() {
        return sm.descriptor().topic();
    }

    @Override
    public int index() {
        return sm.descriptor().partition();
    }

    @Override
    public PartitionRole role() {
        if (sm.log() == null) {
            return PartitionRole.OFFLINE;
        }
        RaftServer.Division d = division();
        if (d == null) {
            return PartitionRole.OFFLINE;
        }
        DivisionInfo info = d.getInfo();
        return info.isLeader() && info.isLeaderReady() && sm.appliedConfig() != null && majorityInContact(info)
            ? PartitionRole.LEADER : PartitionRole.FOLLOWER;
    }

    /** A config proposal is in flight (at most one per partition). */
    private volatile boolean configProposed;

    /**
     * On the leader (ready: its term's first entry applied): proposes {@code desired} as a config entry when it is
     * not the setting in force here, so that every replica applies it at the same point of the log. Until a first
     * config entry is applied this leader does not take the role (no batch is proposed before the settings it is
     * applied with are in the log). At most one proposal in flight; a failed one is proposed again at the next call.
     *
     * @return whether a proposal was made
     */
    boolean proposeConfig(ReplicatedConfig desired) {
        RaftServer.Division d = division();
        ReplicatedConfig now = sm.appliedConfig();
        if (d == null || sm.log() == null || configProposed || desired.sameSettings(now)
            || (now != null && desired.version() < now.version())) {
            return false; // in force already, or read from metadata older than the settings in force
        }
        DivisionInfo info = d.getInfo();
        if (!info.isLeader() || !info.isLeaderReady()) {
            return false;
        }
        configProposed = true;
        LOG.info("{}: proposing the topic settings {} (in force: {})", this, desired, sm.appliedConfig());
        submit(PartitionEntry.configRequest(desired)).whenComplete((reply, e) -> {
            configProposed = false;
            if (e != null || !reply.isSuccess()) {
                LOG.info("{}: the config entry was not committed ({}); proposed again at the next check", this,
                    e != null ? e : reply.getException());
            }
        });
        return true;
    }

    /** How often {@link #majorityInContact} looks at the followers again (it builds a proto: not per request). */
    private static final long CONTACT_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private volatile long contactCheckedAt = System.nanoTime() - CONTACT_CHECK_NANOS;
    private volatile boolean inContact = true;

    /**
     * Whether this leader heard from a majority of its group (itself included) within the longest election timeout
     * (2 x replication.election.timeout.ms): the condition of Ratis's own lost-majority step-down. Ratis checks it
     * only when its leader event queue has been idle for that long, and a leader cut off from its followers while
     * clients keep writing to it is never idle (every append queues an event): ClusterPartitionTest saw such a
     * leader keep its role for the whole 17 s cut, holding every Produce until REQUEST_TIMED_OUT. Answering
     * NOT_LEADER_OR_FOLLOWER at once sends clients to the majority's leader, and with no more appends Ratis's check
     * runs and the division steps down. Re-evaluated at most every 100 ms (no allocation per request).
     */
    private boolean majorityInContact(DivisionInfo info) {
        long now = System.nanoTime();
        if (now - contactCheckedAt < CONTACT_CHECK_NANOS) {
            return inContact;
        }
        RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
        boolean ok = true;
        if (role.hasLeaderInfo()) {
            long limitMs = 2 * groups.electionTimeoutMs();
            int heard = 1; // this leader
            int members = 1;
            for (RaftProtos.ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
                members++;
                if (f.getLastRpcElapsedTimeMs() <= limitMs) {
                    heard++;
                }
            }
            ok = 2 * heard > members;
        }
        inContact = ok;
        contactCheckedAt = now;
        return ok;
    }

    /** The Raft term this division is in (the leader epoch when it leads). */
    @Override
    public int leaderEpoch() {
        RaftServer.Division d = division();
        return d == null ? -1 : (int) Math.min(Integer.MAX_VALUE, d.getInfo().getCurrentTerm());
    }

    /** The leader's node id as this division knows it, -1 when unknown. */
    @Override
    public int leaderId() {
        RaftServer.Division d = division();
        if (d == null) {
            return -1;
        }
        if (d.getInfo().isLeader()) {
            return nodeId;
        }
        return PartitionGroups.nodeIdOf(d.getInfo().getLeaderId());
    }

    /**
     * The replicas in sync now: this leader, plus every follower whose last answer to it (Ratis's follower info,
     * time since the last RPC response) is at most replica.lag.time.max.ms old; 0 when this division does not lead.
     */
    public int inSyncReplicas() {
        RaftServer.Division d = division();
        if (d == null || !d.getInfo().isLeader()) {
            return 0;
        }
        org.apache.ratis.proto.RaftProtos.RoleInfoProto role = d.getInfo().getRoleInfoProto();
        if (!role.hasLeaderInfo()) {
            return 0;
        }
        long lagMax = groups.replicaLagTimeMaxMs();
        int n = 1;
        for (org.apache.ratis.proto.RaftProtos.ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
            if (f.getLastRpcElapsedTimeMs() <= lagMax) {
                n++;
            }
        }
        return n;
    }

    /**
     * Refuses acks=all while fewer replicas than the topic's min.insync.replicas are in sync ({@link
     * #inSyncReplicas}). Raft commits at a majority either way; this is the stricter promise of a min.insync.replicas
     * above a majority (e.g. 3 of 3), and a clear error instead of a timeout below it. Checked at most every 100 ms
     * per partition (Ratis builds its follower info on each call).
     */
    @Override
    public String notEnoughReplicas() {
        int min = groups.minInsync(sm.descriptor());
        if (min <= 1) {
            return null;
        }
        long now = System.nanoTime();
        int inSync = cachedInSync;
        if (now - cachedInSyncAt > IN_SYNC_CACHE_NANOS || inSync < min) {
            inSync = inSyncReplicas();
            cachedInSync = inSync;
            cachedInSyncAt = now;
        }
        if (inSync >= min) {
            return null;
        }
        return "the in-sync replicas of " + topic() + "-" + index() + " are " + inSync + ", fewer than its "
            + "min.insync.replicas=" + min + " (a replica counts while it answered the leader within "
            + "replica.lag.time.max.ms=" + groups.replicaLagTimeMaxMs() + ")";
    }

    private static final long IN_SYNC_CACHE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private volatile int cachedInSync;
    private volatile long cachedInSyncAt = System.nanoTime() - 2 * IN_SYNC_CACHE_NANOS;

    @Override
    public EpochEndOffset endOffsetForEpoch(int leaderEpoch) {
        Partition s = storage();
        return s == null ? EpochEndOffset.UNDEFINED : s.endOffsetForEpoch(leaderEpoch);
    }

    /**
     * Submits a batch to the group: the stateless checks here (a bad batch never enters the Raft log), then the
     * entry goes to this node's division; completes with apply's answer, or NOT_LEADER_OR_FOLLOWER when this node
     * does not lead (or lost leadership before commit), REQUEST_TIMED_OUT when not committed in time. The bytes are
     * copied before this returns: the caller may reuse the buffer.
     */
    public CompletableFuture<AppendResult> appendAsync(ByteBuffer buffer, int offset, int length) {
        ReplicaStorage.Log l = sm.log();
        if (l == null) {
            return CompletableFuture.completedFuture(AppendResult.error(ErrorCode.NOT_LEADER_OR_FOLLOWER,
                "the partition's replica is not serving here now"));
        }
        if (role() != PartitionRole.LEADER) {
            return CompletableFuture.completedFuture(notLeader());
        }
        byte[] request = new byte[PartitionEntry.REQUEST_HEADER + length];
        request[0] = PartitionEntry.BATCH;
        ByteBuffer src = buffer.duplicate();
        src.limit(offset + length).position(offset);
        src.get(request, PartitionEntry.REQUEST_HEADER, length);
        ErrorCode error;
        String why = null;
        synchronized (checkBatch) {
            ByteBuffer view = ByteBuffer.wrap(request, PartitionEntry.REQUEST_HEADER, length).slice();
            checkBatch.wrap(view, 0);
            error = l.check(checkBatch, length);
            if (error != ErrorCode.NONE) {
                why = l.describe(error, checkBatch, length);
            }
        }
        if (error != ErrorCode.NONE) {
            return CompletableFuture.completedFuture(AppendResult.error(error, why));
        }
        return submit(UnsafeByteOperations.unsafeWrap(request)).thenApply(reply -> {
            AppendResult failed = failure(reply);
            if (failed != null) {
                return failed;
            }
            AppendResult r = PartitionEntry.parseReply(reply.getMessage().getContent());
            if (r.error() != ErrorCode.NONE) {
                logRefusal(r);
            }
            return r;
        }).thenCompose(this::belowHighWatermark).exceptionally(ReplicatedPartition::fromThrowable);
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ReplicatedPartition.class);
    private static final long REFUSAL_LOG_NANOS = TimeUnit.SECONDS.toNanos(1);
    private volatile long refusalLoggedAt = System.nanoTime() - REFUSAL_LOG_NANOS;
    private volatile int refusalsNotLogged;

    /**
     * A batch that apply refused (sequence, epoch, producer state): logged with apply's reason, at most once a
     * second per partition (the rest counted), so that a producer stuck on a refusal after a leader change shows
     * what this replica's producer state holds.
     */
    private void logRefusal(AppendResult r) {
        long now = System.nanoTime();
        if (now - refusalLoggedAt < REFUSAL_LOG_NANOS) {
            refusalsNotLogged++;
            return;
        }
        refusalLoggedAt = now;
        int skipped = refusalsNotLogged;
        refusalsNotLogged = 0;
        LOG.info("{}: batch refused {} (term {}): {}{}", this, r.error(), leaderEpoch(), r.errorMessage(),
            skipped > 0 ? " (" + skipped + " more refusals in the last second not logged)" : "");
    }

    /**
     * Completes with {@code r} once this node's high watermark covers its batch (the segment's group commit after
     * apply), so that, as with Kafka, a read on the leader after the answer sees the batch (Fetch, ListOffsets
     * latest); at once for an error or a batch already covered (a duplicate's original offsets).
     */
    private CompletableFuture<AppendResult> belowHighWatermark(AppendResult r) {
        Partition s = storage();
        if (r.error() != ErrorCode.NONE || s == null || r.lastOffset() < s.highWatermark()) {
            return CompletableFuture.completedFuture(r);
        }
        CompletableFuture<AppendResult> f = new CompletableFuture<>();
        s.whenDurable(r.lastOffset(), error -> f.complete(error == ErrorCode.NONE ? r
            : AppendResult.error(error, "the batch is committed, but this node's segment could not be made durable "
                + "(a retry is answered as a duplicate)")));
        return f;
    }

    @Override
    public boolean appendsAsynchronously() {
        return true;
    }

    /** {@link #appendAsync}, answered on a Ratis thread (or inline when refused before submitting). */
    @Override
    public void append(ByteBuffer buffer, int offset, int length, AppendCallback callback) {
        appendAsync(buffer, offset, length).whenComplete((r, e) -> callback.onAppended(r != null ? r
            : fromThrowable(e)));
    }

    /** The leader's periodic tick entry (expiry in log order). */
    void tick() {
        submit(PartitionEntry.tickRequest());
    }

    /**
     * DeleteRecords on the leader: checks {@code requested} against this leader's high watermark as Kafka does (-1:
     * the high watermark; negative or above it: OFFSET_OUT_OF_RANGE), then proposes the new log start offset as an
     * entry, which every replica applies at the same point of the log. At or below the current start nothing is
     * proposed and the current start is the answer.
     *
     * @return completes with the log start offset after apply on this leader, or exceptionally with an
     *         {@link io.idemlog.server.metadata.AdminException} (NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE,
     *         REQUEST_TIMED_OUT, ...)
     */
    public CompletableFuture<Long> moveLogStartAsync(long requested) {
        Partition s = storage();
        if (s == null || role() != PartitionRole.LEADER) {
            return CompletableFuture.failedFuture(new io.idemlog.server.metadata.AdminException(
                ErrorCode.NOT_LEADER_OR_FOLLOWER, "this node does not lead " + this + " now"));
        }
        long highWatermark = s.highWatermark();
        long target = requested == -1L ? highWatermark : requested;
        if (target < 0 || target > highWatermark) {
            return CompletableFuture.failedFuture(new io.idemlog.server.metadata.AdminException(
                ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot move the log start offset of " + this + " to " + requested
                + ": it must be in [0, " + highWatermark + "] (the high watermark), or -1 for the high watermark"));
        }
        long start = s.logStartOffset();
        if (target <= start) {
            return CompletableFuture.completedFuture(start);
        }
        return submit(PartitionEntry.logStartRequest(target)).handle((reply, e) -> {
            AppendResult r = e != null ? fromThrowable(e) : failure(reply);
            if (r == null) {
                r = PartitionEntry.parseReply(reply.getMessage().getContent());
            }
            if (r.error() != ErrorCode.NONE) {
                throw new CompletionException(new io.idemlog.server.metadata.AdminException(r.error(),
                    r.errorMessage() == null ? r.error().name() : r.errorMessage()));
            }
            return r.baseOffset();
        });
    }

    /** A retention proposal is in flight (at most one per partition). */
    private volatile boolean retentionProposed;

    /**
     * Retention on the leader: where {@code retentionMs} / {@code retentionBytes} move the log start offset now
     * (whole segments, by this leader's clock), proposed as a log start entry; nothing when this node does not lead,
     * nothing is due, or a proposal is still in flight. Followers never decide it: they apply the entry.
     *
     * @return the offset proposed, -1 when none
     */
    long proposeRetention(long nowMs, long retentionMs, long retentionBytes) {
        ReplicaStorage.Log l = sm.log();
        if (l == null || retentionProposed || role() != PartitionRole.LEADER) {
            return -1L;
        }
        long target = l.retentionTarget(nowMs, retentionMs, retentionBytes);
        if (target < 0) {
            return -1L;
        }
        retentionProposed = true;
        LOG.info("{}: retention (retention.ms {}, retention.bytes {}) moves the log start offset to {}", this,
            retentionMs, retentionBytes, target);
        submit(PartitionEntry.logStartRequest(target)).whenComplete((reply, e) -> {
            retentionProposed = false;
            if (e != null || !reply.isSuccess()) {
                LOG.info("{}: retention's log start entry {} was not committed ({}); the next check proposes it "
                    + "again", this, target, e != null ? e : reply.getException());
            }
        });
        return target;
    }

    private CompletableFuture<RaftClientReply> submit(ByteString content) {
        RaftServer server = sm.raftServer();
        if (server == null) {
            return CompletableFuture.failedFuture(new IOException(this + ": not initialised"));
        }
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(groups.clientId())
            .setServerId(server.getId()).setGroupId(sm.getGroupId()).setCallId(groups.nextCallId())
            .setMessage(Message.valueOf(content)).setType(RaftClientRequest.writeRequestType()).build();
        try {
            return server.submitClientRequestAsync(request)
                .orTimeout(groups.appendTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static AppendResult failure(RaftClientReply reply) {
        if (reply.isSuccess()) {
            return null;
        }
        if (reply.getNotLeaderException() != null || reply.getException() instanceof LeaderNotReadyException) {
            return notLeader();
        }
        return AppendResult.error(ErrorCode.NOT_LEADER_OR_FOLLOWER, "the partition group did not commit the batch: "
            + reply.getException());
    }

    private static AppendResult fromThrowable(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (c instanceof TimeoutException) {
            return AppendResult.error(ErrorCode.REQUEST_TIMED_OUT, "not committed within the produce timeout");
        }
        if (c instanceof NotLeaderException || c instanceof LeaderNotReadyException) {
            return notLeader();
        }
        return AppendResult.error(ErrorCode.NOT_LEADER_OR_FOLLOWER, "the partition group failed the batch: " + c);
    }

    private static AppendResult notLeader() {
        return AppendResult.error(ErrorCode.NOT_LEADER_OR_FOLLOWER, "this node does not lead the partition now");
    }

    /**
     * The synchronous form (waits for commit + apply, at most the append timeout). The produce path uses
     * {@link #appendAsync}; this one is for callers without an asynchronous answer.
     */
    @Override
    public AppendResult append(ByteBuffer buffer, int offset, int length, FlushDuty duty) {
        try {
            return appendAsync(buffer, offset, length).get(groups.appendTimeoutMs() + 1000L, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return AppendResult.error(ErrorCode.REQUEST_TIMED_OUT, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            return fromThrowable(e);
        }
    }

    /**
     * The entry is committed once apply answered (a majority's Raft logs are fsync'd), so a completed append is as
     * durable as acks=all asks; this also waits for the segment fsync of this replica (its high watermark).
     */
    @Override
    public void whenDurable(long offset, DurabilityCallback callback) {
        Partition s = storage();
        if (s == null) {
            callback.onComplete(ErrorCode.NOT_LEADER_OR_FOLLOWER);
            return;
        }
        s.whenDurable(offset, callback);
    }

    /** As {@link #whenDurable(long, DurabilityCallback)}: the local storage's wait, token and all. */
    @Override
    public void whenDurable(long offset, DurabilityListener listener, int token) {
        Partition s = storage();
        if (s == null) {
            listener.onDurable(token, ErrorCode.NOT_LEADER_OR_FOLLOWER);
            return;
        }
        s.whenDurable(offset, listener, token);
    }

    @Override
    public void flushNow() {
        Partition s = storage();
        if (s != null) {
            s.flushNow();
        }
    }

    @Override
    public long logStartOffset() {
        Partition s = storage();
        return s == null ? 0L : s.logStartOffset();
    }

    @Override
    public long sizeInBytes() {
        Partition s = storage();
        return s == null ? 0L : s.sizeInBytes();
    }

    @Override
    public long highWatermark() {
        Partition s = storage();
        return s == null ? 0L : s.highWatermark();
    }

    @Override
    public long logEndOffset() {
        Partition s = storage();
        return s == null ? 0L : s.logEndOffset();
    }

    @Override
    public ReadResult read(long fetchOffset, int maxBytes) {
        Partition s = storage();
        if (s == null) {
            return new ReadResult(ErrorCode.NOT_LEADER_OR_FOLLOWER, null, 0L, 0, 0L, 0L);
        }
        return s.read(fetchOffset, maxBytes);
    }

    @Override
    public long[] offsetForTimestamp(long timestamp) throws IOException {
        Partition s = storage();
        if (s == null) {
            throw new IOException(this + ": the replica is not serving here now");
        }
        return s.offsetForTimestamp(timestamp);
    }

    @Override
    public int producerCount() {
        Partition s = storage();
        return s == null ? 0 : s.producerCount();
    }

    @Override
    public long producerEvictions() {
        Partition s = storage();
        return s == null ? 0L : s.producerEvictions();
    }

    @Override
    public long dedupRepeats() {
        Partition s = storage();
        return s == null ? 0L : s.dedupRepeats();
    }

    @Override
    public int dedupKeys() {
        Partition s = storage();
        return s == null ? 0 : s.dedupKeys();
    }

    @Override
    public long dedupEvictions() {
        Partition s = storage();
        return s == null ? 0L : s.dedupEvictions();
    }

    @Override
    public void forEachProducer(ProducerEntryVisitor visitor) {
        Partition s = storage();
        if (s != null) {
            s.forEachProducer(visitor);
        }
    }

    @Override
    public String toString() {
        return sm.toString();
    }
}
