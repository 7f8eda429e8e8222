package io.idemlog.server.state;

/**
 * Which producer a full {@link ProducerStateTable} evicts to make room for a new one.
 */
public enum EvictionPolicy {
    /**
     * Segmented LRU (the default). A producer enters on probation with its first batch and is protected once its
     * window holds two batches of its current epoch (it wrote again: a real producer, not one of a storm of
     * one-shot ids). A full table evicts the least recently written producer on probation, unless fewer than
     * {@link ProducerStateTable#probationReserve(int)} producers are on probation; only then the least recently
     * written protected one. Hence the {@code maxProducers - probationReserve} most recently written protected
     * producers are never evicted to make room for a new producer, however many new ids arrive, and a new producer
     * survives at least {@code probationReserve - 1} newer arrivals before it must have written its second batch.
     */
    SEGMENTED_LRU,
    /** Plain LRU: the least recently written producer is evicted, whatever its history (the control in tests). */
    LRU
}
