package io.idemlog.testkit;

/** Which requests a {@link FaultProxy} may inject faults into. */
public enum FaultScope {
    /** Produce requests only (the default): the connection set-up and metadata traffic stay healthy. */
    PRODUCE,
    /** Every request, whatever its API. */
    ALL
}
