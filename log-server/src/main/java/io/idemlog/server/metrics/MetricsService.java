package io.idemlog.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's metrics registry and its two outputs (docs/OPERATIONS.md): the Prometheus text endpoint
 * ({@code metrics.listener}, off by default) served by the JDK's HTTP server, whose body the Prometheus registry
 * renders; and JMX ({@code metrics.jmx.enable}, on by default) through Micrometer's JMX registry. Both sit under one
 * composite registry that {@link ServerMeters} is bound to.
 */
public final class MetricsService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsService.class);
    /** The Prometheus text exposition format 0.0.4 (what {@link PrometheusMeterRegistry#scrape()} writes). */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** How often meters that appeared at run time are registered, for JMX (the endpoint refreshes per scrape). */
    static final long REFRESH_MS = 5_000;

    /**
     * What to start.
     *
     * @param httpHost   the endpoint's bind address, or null for no endpoint
     * @param httpPort   its port (0: a free one)
     * @param jmx        whether to register the meters as JMX MBeans
     * @param jmxDomain  the MBeans' JMX domain
     */
    public record Settings(String httpHost, int httpPort, boolean jmx, String jmxDomain) {
    }

    private final CompositeMeterRegistry registry = new CompositeMeterRegistry();
    private final PrometheusMeterRegistry prometheus;
    private final JmxMeterRegistry jmx;
    private final ServerMeters meters;
    private final HttpServer http;
    private final ExecutorService httpThread;
    private final ScheduledExecutorService refresher;

    private MetricsService(Settings settings, ServerMeters meters) throws IOException {
        this.meters = meters;
        prometheus = settings.httpHost() != null ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
        if (prometheus != null) {
            registry.add(prometheus);
        }
        if (settings.jmx()) {
            String domain = settings.jmxDomain();
            jmx = new JmxMeterRegistry(new JmxConfig() {
                @Override
                public String get(String key) {
                    return null;
                }

                @Override
                public String domain() {
                    return domain;
                }
            }, Clock.SYSTEM);
            registry.add(jmx);
        } else {
            jmx = null;
        }
        // The histograms are recorded on the request and storage paths: into one registry directly, never into
        // JMX (its Dropwizard timers cost microseconds per update); JMX gets count-and-total views of them. With
        // JMX alone, a simple registry holds them.
        MeterRegistry histograms = prometheus != null ? prometheus : jmx != null ? new SimpleMeterRegistry() : null;
        meters.bind(registry, histograms, jmx);
        if (prometheus != null) {
            httpThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "idemlog-metrics-http");
                t.setDaemon(true);
                return t;
            });
            HttpServer server;
            try {
                server = HttpServer.create(new InetSocketAddress(settings.httpHost(), settings.httpPort()), 16);
            } catch (IOException e) {
                httpThread.shutdownNow();
                close(jmx, prometheus);
                throw new IOException("metrics.listener: cannot bind " + settings.httpHost() + ":"
                    + settings.httpPort() + ": " + e.getMessage(), e);
            }
            server.createContext("/metrics", this::scrape);
            server.createContext("/", MetricsService::notFound);
            server.setExecutor(httpThread);
            server.start();
            http = server;
            LOG.info("metrics endpoint on http://{}:{}/metrics", settings.httpHost(), port());
        } else {
            http = null;
            httpThread = null;
        }
        if (jmx != null) {
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "idemlog-metrics-refresh");
                t.setDaemon(true);
                return t;
            });
            refresher.scheduleWithFixedDelay(this::refreshQuietly, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
        } else {
            refresher = null;
        }
    }

    /** Builds the registry, binds the server's meters, and starts the endpoint and JMX as configured. */
    public static MetricsService start(Settings settings, ServerMeters meters) throws IOException {
        return new MetricsService(settings, meters);
    }

    /** The registry every server meter is in (for tests, and for components that register their own meters). */
    public MeterRegistry registry() {
        return registry;
    }

    /** The endpoint's bound port, or -1 when there is no endpoint. */
    public int port() {
        return http == null ? -1 : http.getAddress().getPort();
    }

    /** The Prometheus text of every meter now, as the endpoint serves it (null without an endpoint). */
    public String scrape() {
        if (prometheus == null) {
            return null;
        }
        meters.refresh();
        return prometheus.scrape();
    }

    private void scrape(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body;
            try {
                body = scrape().getBytes(StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
                LOG.error("metrics scrape failed", e);
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static void notFound(HttpExchange exchange) throws IOException {
        try (exchange) {
            exchange.sendResponseHeaders(404, -1);
        }
    }

    private void refreshQuietly() {
        try {
            meters.refresh();
        } catch (RuntimeException e) {
            LOG.warn("metrics refresh failed", e);
        }
    }

    private static void close(JmxMeterRegistry jmx, PrometheusMeterRegistry prometheus) {
        if (jmx != null) {
            jmx.close();
        }
        if (prometheus != null) {
            prometheus.close();
        }
    }

    /** Stops the endpoint, unregisters the MBeans. */
    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
        if (http != null) {
            http.stop(0);
            httpThread.shutdownNow();
        }
        registry.close();
        close(jmx, prometheus);
    }
}
