package io.idemlog.server.cluster;

import io.idemlog.server.config.ConfigException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Cluster mode's settings (docs/REPLICATION.md §6), parsed and checked together by {@link #parse}: this node's id,
 * the metadata group's voters ({@code controller.quorum.voters}, their Raft endpoints), the replication factor and
 * min.insync.replicas, the election timeout and the Ratis storage directory. Immutable.
 *
 * @param nodeId                   this node's id: one of the voters
 * @param voters                   every member of the metadata group, in the order configured
 * @param defaultReplicationFactor RF of topics created without one (at most the voters)
 * @param minInsyncReplicas        at most the RF
 * @param electionTimeoutMs        Ratis's {@code raft.server.rpc.timeout.min}; the max is twice it
 * @param raftDir                  Ratis storage (Raft logs, state machine dirs)
 * @param listenPort               the port this node's Raft server binds ({@code replication.listen.port}); 0: the
 *                                 port of its own voters entry. Set when the voters entry is an address that
 *                                 forwards to this node (a proxy, NAT), as Kafka's listeners vs advertised.listeners
 */
public record ClusterConfig(int nodeId, List<Voter> voters, int defaultReplicationFactor, int minInsyncReplicas,
                            long electionTimeoutMs, Path raftDir, int listenPort) {
    public ClusterConfig {
        voters = List.copyOf(voters);
        if (listenPort < 0 || listenPort > 65535) {
            throw new ConfigException("replication.listen.port=" + listenPort + ": must be in [1, 65535]");
        }
    }

    /** A node whose Raft server binds its own voters entry's port. */
    public ClusterConfig(int nodeId, List<Voter> voters, int defaultReplicationFactor, int minInsyncReplicas,
                         long electionTimeoutMs, Path raftDir) {
        this(nodeId, voters, defaultReplicationFactor, minInsyncReplicas, electionTimeoutMs, raftDir, 0);
    }

    /** The port this node's Raft (gRPC) server binds: {@link #listenPort} if set, else its voters entry's port. */
    public int bindPort() {
        return listenPort != 0 ? listenPort : self().port();
    }

    /** One member of {@code controller.quorum.voters}: {@code id@host:port}, the port being its Raft (gRPC) port. */
    public record Voter(int id, String host, int port) {
        public String address() {
            return host + ":" + port;
        }

        @Override
        public String toString() {
            return id + "@" + host + ":" + port;
        }
    }

    /** This node's own entry. */
    public Voter self() {
        for (Voter v : voters) {
            if (v.id() == nodeId) {
                return v;
            }
        }
        throw new IllegalStateException("node " + nodeId + " not among " + voters);
    }

    /**
     * Parses {@code controller.quorum.voters} ({@code id@host:port,...}) and checks every cluster setting against
     * it. {@code rf} and {@code minIsr} may be null (defaults: min(3, voters) and min(2, RF)).
     *
     * @throws ConfigException naming the property and what is wrong with it
     */
    public static ClusterConfig parse(int nodeId, boolean nodeIdSet, String votersSpec, Integer rf, Integer minIsr,
                                      long electionTimeoutMs, Path raftDir) {
        return parse(nodeId, nodeIdSet, votersSpec, rf, minIsr, electionTimeoutMs, raftDir, 0);
    }

    /** {@link #parse(int, boolean, String, Integer, Integer, long, Path)} with replication.listen.port (0: unset). */
    public static ClusterConfig parse(int nodeId, boolean nodeIdSet, String votersSpec, Integer rf, Integer minIsr,
                                      long electionTimeoutMs, Path raftDir, int listenPort) {
        List<Voter> voters = parseVoters(votersSpec);
        if (!nodeIdSet) {
            throw new ConfigException("controller.quorum.voters is set (cluster mode) but node.id is not: every "
                + "node of a cluster must set its own node.id, one of " + ids(voters));
        }
        boolean member = false;
        for (Voter v : voters) {
            member |= v.id() == nodeId;
        }
        if (!member) {
            throw new ConfigException("node.id=" + nodeId + " is not among controller.quorum.voters (ids "
                + ids(voters) + "): a node must be one of the voters (combined mode)");
        }
        int effectiveRf = rf != null ? rf : Math.min(3, voters.size());
        if (effectiveRf < 1) {
            throw new ConfigException("default.replication.factor=" + effectiveRf + ": must be at least 1");
        }
        if (effectiveRf > voters.size()) {
            throw new ConfigException("default.replication.factor=" + effectiveRf + " is above the number of nodes in "
                + "controller.quorum.voters (" + voters.size() + ")");
        }
        int effectiveMinIsr = minIsr != null ? minIsr : Math.min(2, effectiveRf);
        if (effectiveMinIsr < 1) {
            throw new ConfigException("min.insync.replicas=" + effectiveMinIsr + ": must be at least 1");
        }
        if (effectiveMinIsr > effectiveRf) {
            throw new ConfigException("min.insync.replicas=" + effectiveMinIsr + " is above default.replication.factor="
                + effectiveRf + ": no write could ever be acknowledged");
        }
        return new ClusterConfig(nodeId, voters, effectiveRf, effectiveMinIsr, electionTimeoutMs, raftDir, listenPort);
    }

    /** {@code id@host:port[,id@host:port]...}: ids unique and >= 0, endpoints unique, ports in [1, 65535]. */
    static List<Voter> parseVoters(String spec) {
        String name = "controller.quorum.voters";
        List<Voter> voters = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        for (String item : spec.split(",", -1)) {
            String t = item.trim();
            if (t.isEmpty()) {
                throw new ConfigException(name + "=" + spec + ": empty entry (expected id@host:port,...)");
            }
            int at = t.indexOf('@');
            if (at <= 0) {
                throw new ConfigException(name + ": '" + t + "' must be id@host:port");
            }
            int id;
            try {
                id = Integer.parseInt(t.substring(0, at));
            } catch (NumberFormatException e) {
                throw new ConfigException(name + ": '" + t + "': the id before '@' is not a number");
            }
            if (id < 0) {
                throw new ConfigException(name + ": '" + t + "': the id must be >= 0");
            }
            String hostPort = t.substring(at + 1);
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new ConfigException(name + ": '" + t + "': expected host:port after '@'");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
                throw new ConfigException(name + ": '" + t + "': the host must be an address the other nodes can "
                    + "reach, not a wildcard");
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException(name + ": '" + t + "': bad port");
            }
            if (port < 1 || port > 65535) {
                throw new ConfigException(name + ": '" + t + "': port must be in [1, 65535]");
            }
            if (!ids.add(id)) {
                throw new ConfigException(name + ": node id " + id + " appears twice");
            }
            if (!endpoints.add(host + ":" + port)) {
                throw new ConfigException(name + ": endpoint " + host + ":" + port + " appears twice");
            }
            voters.add(new Voter(id, host, port));
        }
        return voters;
    }

    private static List<Integer> ids(List<Voter> voters) {
        List<Integer> ids = new ArrayList<>();
        for (Voter v : voters) {
            ids.add(v.id());
        }
        return ids;
    }
}
