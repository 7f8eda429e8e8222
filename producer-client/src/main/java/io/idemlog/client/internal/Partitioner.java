package io.idemlog.client.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Kafka's default partitioning, so that a key lands on the same partition as with kafka-clients: MurmurHash2
 * (32-bit, seed 0x9747b28c) of the key bytes, made non-negative by masking the sign bit (not Math.abs), modulo
 * the partition count. Records without a key use a sticky partition chosen by {@link #nextSticky}.
 */
public final class Partitioner {
    private static final int SEED = 0x9747b28c;
    private static final int M = 0x5bd1e995;
    private static final int R = 24;

    private Partitioner() {
    }

    /** The partition of a keyed record. */
    public static int partitionForKey(byte[] key, int partitionCount) {
        return toPositive(murmur2(key)) % partitionCount;
    }

    /** Clears the sign bit; unlike Math.abs it maps Integer.MIN_VALUE to 0, as Kafka does. */
    public static int toPositive(int n) {
        return n & 0x7fffffff;
    }

    /** MurmurHash2, 32 bits, the variant Kafka uses: little-endian 4-byte blocks, seed 0x9747b28c. */
    public static int murmur2(byte[] data) {
        int length = data.length;
        int h = SEED ^ length;
        int blocks = length >>> 2;
        for (int i = 0; i < blocks; i++) {
            int j = i << 2;
            int k = (data[j] & 0xff) | (data[j + 1] & 0xff) << 8 | (data[j + 2] & 0xff) << 16
                | (data[j + 3] & 0xff) << 24;
            k *= M;
            k ^= k >>> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = blocks << 2;
        int rest = length & 3;
        if (rest == 3) {
            h ^= (data[tail + 2] & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (data[tail + 1] & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= data[tail] & 0xff;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }

    /** A partition other than {@code previous} (when there is more than one), chosen at random. */
    public static int nextSticky(int previous, int partitionCount) {
        if (partitionCount <= 1) {
            return 0;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (previous < 0 || previous >= partitionCount) {
            return random.nextInt(partitionCount);
        }
        int p = random.nextInt(partitionCount - 1);
        return p >= previous ? p + 1 : p;
    }
}
