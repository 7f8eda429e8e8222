package io.idemlog.server.cluster;

import io.idemlog.server.metadata.MetadataRecord;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The replicated cluster metadata as the metadata group's log made it: topics (name, id, configs), per partition
 * its replicas, leader and leader epoch, and the next unallocated producer id. Immutable: {@link #apply} returns a
 * new image, so handlers read a published image without locks. {@link #apply} is a pure function of (image, entry):
 * no clock, no randomness, no I/O; topic ids, assignments and block sizes are decided by the proposer and carried in
 * the entry. Topic records use {@link MetadataRecord}'s encoding (the single-node metadata log's own format).
 */
public final class ClusterImage {
    public static final ClusterImage EMPTY = new ClusterImage(new TreeMap<>(), 0, new TreeMap<>(), Identities.EMPTY);
    /** Longest advertised host name a broker registration may carry (bytes of UTF-8). */
    static final int MAX_HOST_BYTES = 255;

    /** A registered broker: its node id and the Kafka listener it advertises to clients (the latest registration). */
    public record BrokerState(int nodeId, String host, int port) {
    }

    /** One partition: its replicas (node ids, preferred leader first), current leader and leader epoch. */
    public record PartitionState(List<Integer> replicas, int leader, int leaderEpoch) {
        public PartitionState {
            replicas = List.copyOf(replicas);
        }
    }

    /** One topic. */
    public record TopicState(String name, UUID id, Map<String, String> configs, List<PartitionState> partitions) {
        public TopicState {
            configs = Map.copyOf(configs);
            partitions = List.copyOf(partitions);
        }
    }

    /**
     * A named producer's stable identity (docs/DEDUP.md "Stable producer identity"): its producer id, the epoch its
     * latest InitProducerId was answered (the start of its epoch block), and the init count at that init (the least
     * recently initialised name is forgotten beyond the bound).
     */
    public record NamedProducer(long producerId, short epoch, long lastInit) {
    }

    /**
     * The named producers (by name), the producer ids retired because their epochs ran out (fenced at every epoch),
     * and how many named inits were applied (the clock of {@link NamedProducer#lastInit}). Immutable.
     */
    public record Identities(Map<String, NamedProducer> names, java.util.SortedSet<Long> retired, long inits) {
        static final Identities EMPTY = new Identities(new TreeMap<>(), new java.util.TreeSet<>(), 0);

        public Identities {
            names = Collections.unmodifiableMap(new TreeMap<>(names));
            retired = Collections.unmodifiableSortedSet(new java.util.TreeSet<>(retired));
        }
    }

    /** What applying an entry did: the new image, and the answer for its proposer. */
    public record Result(ClusterImage image, boolean accepted, long value, String message) {
    }

    // entry kinds
    static final byte CREATE_TOPIC = 1;
    static final byte TOPIC_RECORD = 2;
    static final byte LEADER_CHANGED = 3;
    static final byte PRODUCER_ID_BLOCK = 4;
    static final byte BROKER_REGISTERED = 5;
    static final byte PARTITIONS_ADDED = 6;
    static final byte NAMED_PRODUCER = 7;
    /** A named producer id must fit the 48 bits the answer's value leaves it. */
    static final long MAX_NAMED_PRODUCER_ID = (1L << 47) - 1;

    private final Map<String, TopicState> topics;
    private final long nextProducerId;
    private final Map<Integer, BrokerState> brokers;
    private final Identities identities;

    private ClusterImage(Map<String, TopicState> topics, long nextProducerId, Map<Integer, BrokerState> brokers,
                         Identities identities) {
        this.topics = Collections.unmodifiableMap(topics);
        this.nextProducerId = nextProducerId;
        this.brokers = Collections.unmodifiableMap(brokers);
        this.identities = identities;
    }

    /** The named producers' identities. */
    public Identities identities() {
        return identities;
    }

    /** Every registered broker by node id (ascending), each with its latest registration. */
    public Map<Integer, BrokerState> brokers() {
        return brokers;
    }

    /** The broker with this node id, or null when it never registered. */
    public BrokerState broker(int nodeId) {
        return brokers.get(nodeId);
    }

    public Map<String, TopicState> topics() {
        return topics;
    }

    public TopicState topic(String name) {
        return topics.get(name);
    }

    public TopicState topic(UUID id) {
        for (TopicState t : topics.values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        return null;
    }

    /** The first producer id no block has been given yet. */
    public long nextProducerId() {
        return nextProducerId;
    }

    // ------------------------------------------------------------------------------------------------ entries

    /** A new topic with the proposer's id and assignment (leader = first replica, epoch 0). */
    static byte[] createTopic(String name, UUID id, Map<String, String> configs, List<List<Integer>> assignment) {
        byte[] rec = new MetadataRecord.TopicCreated(name, id, assignment.size(), configs).encode();
        int size = 1 + 4 + rec.length + 4;
        for (List<Integer> r : assignment) {
            size += 4 + 4 * r.size();
        }
        ByteBuffer b = ByteBuffer.allocate(size).put(CREATE_TOPIC).putInt(rec.length).put(rec).putInt(assignment.size());
        for (List<Integer> r : assignment) {
            b.putInt(r.size());
            for (int n : r) {
                b.putInt(n);
            }
        }
        return b.array();
    }

    /** A change of an existing topic: {@link MetadataRecord.ConfigsReplaced} or {@link MetadataRecord.TopicDeleted}. */
    static byte[] topicRecord(MetadataRecord record) {
        byte[] rec = record.encode();
        return ByteBuffer.allocate(1 + 4 + rec.length).put(TOPIC_RECORD).putInt(rec.length).put(rec).array();
    }

    /**
     * CreatePartitions: partitions appended to a topic that has {@code currentCount} now (refused if it has another
     * count when applied: two concurrent requests cannot both add), each with the proposer's replicas (leader = first
     * replica, epoch 0).
     */
    static byte[] partitionsAdded(UUID topicId, int currentCount, List<List<Integer>> added) {
        int size = 1 + 16 + 4 + 4;
        for (List<Integer> r : added) {
            size += 4 + 4 * r.size();
        }
        ByteBuffer b = ByteBuffer.allocate(size).put(PARTITIONS_ADDED).putLong(topicId.getMostSignificantBits())
            .putLong(topicId.getLeastSignificantBits()).putInt(currentCount).putInt(added.size());
        for (List<Integer> r : added) {
            b.putInt(r.size());
            for (int n : r) {
                b.putInt(n);
            }
        }
        return b.array();
    }

    static byte[] leaderChanged(UUID topicId, int partition, int leader, int leaderEpoch) {
        return ByteBuffer.allocate(1 + 16 + 12).put(LEADER_CHANGED).putLong(topicId.getMostSignificantBits())
            .putLong(topicId.getLeastSignificantBits()).putInt(partition).putInt(leader).putInt(leaderEpoch).array();
    }

    /** A broker's (re-)registration: node id and the advertised Kafka listener; the image keeps the latest. */
    static byte[] brokerRegistered(int nodeId, String host, int port) {
        byte[] h = host.getBytes(StandardCharsets.UTF_8);
        if (h.length < 1 || h.length > MAX_HOST_BYTES) {
            throw new IllegalArgumentException("advertised host of " + h.length + " bytes (1.." + MAX_HOST_BYTES + ")");
        }
        return ByteBuffer.allocate(1 + 4 + 2 + h.length + 4).put(BROKER_REGISTERED).putInt(nodeId)
            .putShort((short) h.length).put(h).putInt(port).array();
    }

    /**
     * A named producer's InitProducerId: the same producer id as its earlier incarnations at the next epoch block
     * (a new id at epoch 0 the first time, after it was forgotten, or when its epochs ran out: the old id is then
     * retired); beyond {@code maxNames} names the least recently initialised is forgotten. The answer's value is
     * {@code producerId << 16 | epoch}.
     */
    static byte[] namedProducer(String name, int maxNames) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length < 1 || n.length > io.idemlog.server.state.ProducerIdentities.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("a producer name is 1 to "
                + io.idemlog.server.state.ProducerIdentities.MAX_NAME_BYTES + " bytes: " + n.length);
        }
        return ByteBuffer.allocate(1 + 4 + 2 + n.length).put(NAMED_PRODUCER).putInt(maxNames)
            .putShort((short) n.length).put(n).array();
    }

    static byte[] producerIdBlock(int nodeId, int size) {
        return ByteBuffer.allocate(1 + 8).put(PRODUCER_ID_BLOCK).putInt(nodeId).putInt(size).array();
    }

    /**
     * Applies one entry. A well-formed entry that does not fit the image (a topic name taken, an unknown topic, a
     * stale leader epoch) is refused in the result, identically on every node; the image is then unchanged.
     *
     * @throws IllegalArgumentException when the bytes are not an entry (a damaged log)
     */
    public Result apply(ByteBuffer entry) {
        try {
            byte kind = entry.get();
            return switch (kind) {
                case CREATE_TOPIC -> applyCreate(entry);
                case TOPIC_RECORD -> applyTopicRecord(entry);
                case LEADER_CHANGED -> applyLeader(entry);
                case PRODUCER_ID_BLOCK -> applyBlock(entry);
                case BROKER_REGISTERED -> applyBroker(entry);
                case PARTITIONS_ADDED -> applyPartitionsAdded(entry);
                case NAMED_PRODUCER -> applyNamedProducer(entry);
                default -> throw new IllegalArgumentException("unknown metadata entry kind " + kind);
            };
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated metadata entry");
        }
    }

    private static MetadataRecord record(ByteBuffer b) {
        int n = b.getInt();
        if (n < 1 || n > b.remaining()) {
            throw new IllegalArgumentException("bad record length " + n);
        }
        ByteBuffer slice = b.slice(b.position(), n);
        b.position(b.position() + n);
        return MetadataRecord.decode(slice);
    }

    private Result refuse(String why) {
        return new Result(this, false, -1, why);
    }

    private Result applyCreate(ByteBuffer b) {
        if (!(record(b) instanceof MetadataRecord.TopicCreated t)) {
            throw new IllegalArgumentException("CREATE_TOPIC without a TopicCreated record");
        }
        int n = b.getInt();
        if (n != t.partitions() || n < 1) {
            throw new IllegalArgumentException("assignment of " + n + " partitions for " + t.partitions());
        }
        List<PartitionState> parts = readAssignment(b, n);
        if (topics.containsKey(t.name())) {
            return refuse("topic " + t.name() + " already exists");
        }
        if (topic(t.id()) != null) {
            return refuse("topic id " + t.id() + " already in use");
        }
        TreeMap<String, TopicState> next = new TreeMap<>(topics);
        next.put(t.name(), new TopicState(t.name(), t.id(), t.configs(), parts));
        return new Result(new ClusterImage(next, nextProducerId, brokers, identities), true, n, "created");
    }

    /** Reads {@code n} replica lists (each: count, node ids). */
    private static List<PartitionState> readAssignment(ByteBuffer b, int n) {
        List<PartitionState> parts = new ArrayList<>(n);
        for (int p = 0; p < n; p++) {
            int r = b.getInt();
            if (r < 1 || r > b.remaining() / 4) {
                throw new IllegalArgumentException("bad replica count " + r);
            }
            List<Integer> replicas = new ArrayList<>(r);
            for (int i = 0; i < r; i++) {
                replicas.add(b.getInt());
            }
            parts.add(new PartitionState(replicas, replicas.get(0), 0));
        }
        return parts;
    }

    private Result applyPartitionsAdded(ByteBuffer b) {
        UUID id = new UUID(b.getLong(), b.getLong());
        int current = b.getInt();
        int n = b.getInt();
        if (n < 1 || n > b.remaining() / 8) {
            throw new IllegalArgumentException("adding " + n + " partitions");
        }
        List<PartitionState> added = readAssignment(b, n);
        TopicState t = topic(id);
        if (t == null) {
            return refuse("no topic with id " + id);
        }
        if (t.partitions().size() != current) {
            return refuse("topic " + t.name() + " has " + t.partitions().size() + " partitions, not the " + current
                + " this request was made for (another request changed it)");
        }
        List<PartitionState> parts = new ArrayList<>(t.partitions());
        parts.addAll(added);
        TreeMap<String, TopicState> next = new TreeMap<>(topics);
        next.put(t.name(), new TopicState(t.name(), t.id(), t.configs(), parts));
        return new Result(new ClusterImage(next, nextProducerId, brokers, identities), true, parts.size(),
            "partitions added");
    }

    private Result applyTopicRecord(ByteBuffer b) {
        MetadataRecord r = record(b);
        TreeMap<String, TopicState> next = new TreeMap<>(topics);
        if (r instanceof MetadataRecord.ConfigsReplaced c) {
            TopicState t = topic(c.id());
            if (t == null) {
                return refuse("no topic with id " + c.id());
            }
            next.put(t.name(), new TopicState(t.name(), t.id(), c.configs(), t.partitions()));
        } else if (r instanceof MetadataRecord.TopicDeleted d) {
            TopicState t = topic(d.id());
            if (t == null) {
                return refuse("no topic with id " + d.id());
            }
            next.remove(t.name());
        } else {
            throw new IllegalArgumentException("TOPIC_RECORD cannot carry " + r.getClass().getSimpleName());
        }
        return new Result(new ClusterImage(next, nextProducerId, brokers, identities), true, 0, "applied");
    }

    private Result applyLeader(ByteBuffer b) {
        UUID id = new UUID(b.getLong(), b.getLong());
        int partition = b.getInt();
        int leader = b.getInt();
        int epoch = b.getInt();
        TopicState t = topic(id);
        if (t == null || partition < 0 || partition >= t.partitions().size()) {
            return refuse("no partition " + partition + " of topic id " + id);
        }
        PartitionState old = t.partitions().get(partition);
        if (epoch <= old.leaderEpoch()) {
            return refuse("leader epoch " + epoch + " is not above the current " + old.leaderEpoch());
        }
        if (!old.replicas().contains(leader)) {
            return refuse("node " + leader + " is not a replica of " + t.name() + "-" + partition);
        }
        List<PartitionState> parts = new ArrayList<>(t.partitions());
        parts.set(partition, new PartitionState(old.replicas(), leader, epoch));
        TreeMap<String, TopicState> next = new TreeMap<>(topics);
        next.put(t.name(), new TopicState(t.name(), t.id(), t.configs(), parts));
        return new Result(new ClusterImage(next, nextProducerId, brokers, identities), true, epoch,
            "leader changed");
    }

    private Result applyBlock(ByteBuffer b) {
        b.getInt(); // the requesting node: informational (logged by the proposer), the block is the same for anyone
        int size = b.getInt();
        if (size < 1) {
            throw new IllegalArgumentException("producer id block of " + size);
        }
        if (nextProducerId > Long.MAX_VALUE - size) {
            return refuse("producer ids exhausted");
        }
        return new Result(new ClusterImage(topics, nextProducerId + size, brokers, identities), true, nextProducerId,
            "allocated");
    }

    private Result applyNamedProducer(ByteBuffer b) {
        int maxNames = b.getInt();
        int len = b.getShort() & 0xffff;
        if (maxNames < 1 || len < 1 || len > io.idemlog.server.state.ProducerIdentities.MAX_NAME_BYTES
            || len > b.remaining()) {
            throw new IllegalArgumentException("bad named producer entry (name of " + len + " bytes, " + maxNames
                + " names kept)");
        }
        byte[] n = new byte[len];
        b.get(n);
        String name = new String(n, StandardCharsets.UTF_8);
        NamedProducer was = identities.names().get(name);
        java.util.SortedSet<Long> retired = identities.retired();
        long next = nextProducerId;
        long id;
        short epoch;
        if (was == null) {
            id = next++;
            epoch = 0;
        } else if (io.idemlog.server.state.ProducerIdentities.nextIncarnationEpoch(was.epoch()) < 0) {
            retired = new java.util.TreeSet<>(retired);
            retired.add(was.producerId());
            id = next++;
            epoch = 0;
        } else {
            id = was.producerId();
            epoch = (short) io.idemlog.server.state.ProducerIdentities.nextIncarnationEpoch(was.epoch());
        }
        if (id > MAX_NAMED_PRODUCER_ID) {
            return refuse("producer ids exhausted");
        }
        long inits = identities.inits() + 1;
        TreeMap<String, NamedProducer> names = new TreeMap<>(identities.names());
        names.put(name, new NamedProducer(id, epoch, inits));
        while (names.size() > maxNames) {
            String oldest = null;
            long at = Long.MAX_VALUE;
            for (Map.Entry<String, NamedProducer> e : names.entrySet()) {
                if (e.getValue().lastInit() < at) {
                    at = e.getValue().lastInit();
                    oldest = e.getKey();
                }
            }
            names.remove(oldest);
        }
        return new Result(new ClusterImage(topics, next, brokers, new Identities(names, retired, inits)), true,
            id << 16 | (epoch & 0xffff), "named producer");
    }

    private Result applyBroker(ByteBuffer b) {
        int nodeId = b.getInt();
        int len = b.getShort() & 0xffff;
        if (len < 1 || len > MAX_HOST_BYTES || len > b.remaining()) {
            throw new IllegalArgumentException("bad advertised host length " + len);
        }
        byte[] h = new byte[len];
        b.get(h);
        int port = b.getInt();
        String host = new String(h, StandardCharsets.UTF_8);
        if (nodeId < 0) {
            return refuse("broker node id " + nodeId + " is negative");
        }
        if (port < 1 || port > 65535) {
            return refuse("broker " + nodeId + " advertises port " + port);
        }
        BrokerState now = new BrokerState(nodeId, host, port);
        if (now.equals(brokers.get(nodeId))) {
            return new Result(this, true, nodeId, "already registered"); // a restart with the same listener
        }
        TreeMap<Integer, BrokerState> next = new TreeMap<>(brokers);
        next.put(nodeId, now);
        return new Result(new ClusterImage(topics, nextProducerId, next, identities), true, nodeId, "registered");
    }

    // ------------------------------------------------------------------------------------------------ snapshot

    /**
     * Snapshot body versions: 1 = topics and next producer id; 2 = 1 followed by the registered brokers; 3 = 2
     * followed by the named producers (init count; names: each name, id, epoch, last init; retired ids).
     */
    static final int SNAPSHOT_V1 = 1;
    static final int SNAPSHOT_V2 = 2;
    static final int SNAPSHOT_V3 = 3;

    /**
     * The image as bytes (version {@link #SNAPSHOT_V3}): next producer id, then per topic its CREATE_TOPIC entry and
     * each partition's leader/epoch, then the brokers (count, then each one's BROKER_REGISTERED entry), then the
     * named producers.
     */
    byte[] encode() {
        List<byte[]> parts = new ArrayList<>();
        int size = 8 + 4;
        for (TopicState t : topics.values()) {
            List<List<Integer>> assignment = new ArrayList<>();
            for (PartitionState p : t.partitions()) {
                assignment.add(p.replicas());
            }
            byte[] e = createTopic(t.name(), t.id(), t.configs(), assignment);
            parts.add(e);
            size += 4 + e.length + 8 * t.partitions().size();
        }
        List<byte[]> regs = new ArrayList<>();
        size += 4;
        for (BrokerState br : brokers.values()) {
            byte[] e = brokerRegistered(br.nodeId(), br.host(), br.port());
            regs.add(e);
            size += 4 + e.length;
        }
        size += 8 + 4 + 4 + 8 * identities.retired().size();
        for (String name : identities.names().keySet()) {
            size += 2 + name.getBytes(StandardCharsets.UTF_8).length + 8 + 2 + 8;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putLong(nextProducerId).putInt(parts.size());
        int i = 0;
        for (TopicState t : topics.values()) {
            byte[] e = parts.get(i++);
            b.putInt(e.length).put(e);
            for (PartitionState p : t.partitions()) {
                b.putInt(p.leader()).putInt(p.leaderEpoch());
            }
        }
        b.putInt(regs.size());
        for (byte[] e : regs) {
            b.putInt(e.length).put(e);
        }
        b.putLong(identities.inits()).putInt(identities.names().size());
        for (Map.Entry<String, NamedProducer> e : identities.names().entrySet()) {
            byte[] n = e.getKey().getBytes(StandardCharsets.UTF_8);
            b.putShort((short) n.length).put(n).putLong(e.getValue().producerId()).putShort(e.getValue().epoch())
                .putLong(e.getValue().lastInit());
        }
        b.putInt(identities.retired().size());
        for (long id : identities.retired()) {
            b.putLong(id);
        }
        return b.array();
    }

    /** Decodes a snapshot body of the given version ({@link #SNAPSHOT_V1} has no brokers). */
    static ClusterImage decode(ByteBuffer b, int version) {
        if (version != SNAPSHOT_V1 && version != SNAPSHOT_V2 && version != SNAPSHOT_V3) {
            throw new IllegalArgumentException("unknown metadata snapshot version " + version);
        }
        long next = b.getLong();
        int n = b.getInt();
        ClusterImage image = new ClusterImage(new TreeMap<>(), next, new TreeMap<>(), Identities.EMPTY);
        for (int i = 0; i < n; i++) {
            int len = b.getInt();
            ByteBuffer e = b.slice(b.position(), len);
            b.position(b.position() + len);
            Result r = image.apply(e);
            if (!r.accepted()) {
                throw new IllegalArgumentException("snapshot topic does not apply: " + r.message());
            }
            TopicState t = null;
            for (TopicState x : r.image().topics().values()) {
                if (image.topics().get(x.name()) == null) {
                    t = x;
                }
            }
            List<PartitionState> parts = new ArrayList<>();
            for (PartitionState p : t.partitions()) {
                parts.add(new PartitionState(p.replicas(), b.getInt(), b.getInt()));
            }
            TreeMap<String, TopicState> m = new TreeMap<>(r.image().topics());
            m.put(t.name(), new TopicState(t.name(), t.id(), t.configs(), parts));
            image = new ClusterImage(m, next, image.brokers, image.identities);
        }
        if (version >= SNAPSHOT_V2) {
            int count = b.getInt();
            if (count < 0 || count > b.remaining()) {
                throw new IllegalArgumentException("bad broker count " + count);
            }
            for (int i = 0; i < count; i++) {
                int len = b.getInt();
                if (len < 1 || len > b.remaining()) {
                    throw new IllegalArgumentException("bad broker entry length " + len);
                }
                ByteBuffer e = b.slice(b.position(), len);
                b.position(b.position() + len);
                if (e.get(0) != BROKER_REGISTERED) {
                    throw new IllegalArgumentException("snapshot broker entry of kind " + e.get(0));
                }
                Result r = image.apply(e);
                if (!r.accepted()) {
                    throw new IllegalArgumentException("snapshot broker does not apply: " + r.message());
                }
                image = r.image();
            }
        }
        if (version >= SNAPSHOT_V3) {
            long inits = b.getLong();
            int count = b.getInt();
            if (count < 0 || count > b.remaining()) {
                throw new IllegalArgumentException("bad named producer count " + count);
            }
            TreeMap<String, NamedProducer> names = new TreeMap<>();
            for (int i = 0; i < count; i++) {
                int len = b.getShort() & 0xffff;
                if (len < 1 || len > b.remaining()) {
                    throw new IllegalArgumentException("bad producer name length " + len);
                }
                byte[] nameBytes = new byte[len];
                b.get(nameBytes);
                names.put(new String(nameBytes, StandardCharsets.UTF_8), new NamedProducer(b.getLong(), b.getShort(),
                    b.getLong()));
            }
            int retiredCount = b.getInt();
            if (retiredCount < 0 || retiredCount > b.remaining() / 8) {
                throw new IllegalArgumentException("bad retired producer id count " + retiredCount);
            }
            java.util.TreeSet<Long> retired = new java.util.TreeSet<>();
            for (int i = 0; i < retiredCount; i++) {
                retired.add(b.getLong());
            }
            image = new ClusterImage(image.topics, image.nextProducerId, image.brokers,
                new Identities(names, retired, inits));
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " bytes after the snapshot's topics");
        }
        return image;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterImage c && c.nextProducerId == nextProducerId && c.topics.equals(topics)
            && c.brokers.equals(brokers) && c.identities.equals(identities);
    }

    @Override
    public int hashCode() {
        return ((topics.hashCode() * 31 + Long.hashCode(nextProducerId)) * 31 + brokers.hashCode()) * 31
            + identities.hashCode();
    }

    @Override
    public String toString() {
        return "ClusterImage{nextProducerId=" + nextProducerId + ", brokers=" + brokers.values() + ", topics=" + topics
            + "}";
    }
}
