package io.idemlog.consumer;

/**
 * Counts of one {@link IdempotentConsumer} since it was built (the same numbers its Micrometer meters report).
 *
 * @param applied         records whose effect was applied (the handler ran and its transaction committed)
 * @param duplicates      records skipped because their id was already processed
 * @param handlerFailures handler invocations that threw (each is retried or, at the last attempt, dead-lettered)
 * @param deadLettered    records sent to the dead-letter target after their last attempt
 * @param storeFailures   store operations that failed (database down, lock timeout); the record was retried
 * @param unrecorded      insert-first mode only: effects applied whose id commit then failed; the retry re-applies
 *                        the effect unless the commit had in fact succeeded (a possible duplicate effect)
 */
public record ConsumerStats(long applied, long duplicates, long handlerFailures, long deadLettered, long storeFailures,
                            long unrecorded) {
}
