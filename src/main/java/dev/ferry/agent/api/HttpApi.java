package dev.ferry.agent.api;

import static io.javalin.apibuilder.ApiBuilder.before;
import static io.javalin.apibuilder.ApiBuilder.delete;
import static io.javalin.apibuilder.ApiBuilder.get;
import static io.javalin.apibuilder.ApiBuilder.path;
import static io.javalin.apibuilder.ApiBuilder.post;
import static io.javalin.apibuilder.ApiBuilder.sse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentService;
import dev.ferry.agent.EventBus;
import dev.ferry.agent.VmInfo;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.Migrations;
import dev.ferry.migration.PeerProtocol;
import dev.ferry.pki.Identity;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/JSON API under {@code /v1}. It only maps requests to {@link AgentService} calls and
 * results to JSON; typed request records are parsed here so nothing loosely typed goes inward.
 * Errors are mapped by {@link ApiErrors}.
 *
 * <pre>
 * GET    /v1/host                 HostInfo
 * GET    /v1/vms                  {"vms": [VmInfo...]}
 * POST   /v1/vms                  DefineVmRequest -> 201 VmInfo
 * GET    /v1/vms/{name}           VmInfo
 * DELETE /v1/vms/{name}           204 (undefine; only when no QEMU runs)
 * POST   /v1/vms/{name}/ACTION    VmInfo; ACTION is start, pause, resume, stop or destroy
 * POST   /v1/vms/{name}/save      SaveRequest -> 202 MigrationStatus (a migration into a file)
 * POST   /v1/restore              RestoreRequest -> VmInfo
 * GET    /v1/migrations           {"migrations": [MigrationStatus...]}, newest first
 * POST   /v1/migrations           MigrateRequest -> 202 MigrationStatus; a dry run answers 200 with its report
 * GET    /v1/migrations/{id}      MigrationStatus (with the report once it ended)
 * POST   /v1/migrations/{id}/cancel   MigrationStatus
 * POST   /v1/migrations/{id}/tune     TuneRequest -> MigrationStatus (bandwidth and downtime, until the RAM copy ends)
 * GET    /v1/migrations/{id}/tool-output   ToolOutput: what each call of an external tool printed (kept tails)
 * POST   /v1/peer/migrations/{id}/check|prepare|switchover|abort   PeerProtocol.Request (agent to agent)
 * GET    /v1/peer/migrations/{id}/ownership   whether this host took the VM (a recovering source asks)
 * GET    /v1/events               server-sent events "vm-state", data VmEvent
 * </pre>
 */
public final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    /** Larger request bodies get 413: a spec is a few KiB, nothing legitimate comes near this. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;

    private final AgentService service;
    private final Migrations migrations;
    private final EventBus events;
    private final ObjectMapper json;

    private HttpApi(AgentService service, Migrations migrations, EventBus events, ObjectMapper json) {
        this.service = service;
        this.migrations = migrations;
        this.events = events;
        this.json = json;
    }

    /** The migration history, as {@code GET /v1/migrations} answers it. */
    record MigrationList(java.util.List<MigrationStatus> migrations) {}

    /**
     * The API serving on {@code listen:port}: plain HTTP when {@code tls} is null, else HTTPS only,
     * with a client certificate of the cluster CA required in the handshake and each call checked
     * against what the certificate's holder may do ({@link ClientAccess}).
     */
    public static Javalin serve(AgentService service, Migrations migrations, EventBus events, String listen, int port,
                                ApiTls tls) {
        if (tls == null) {
            return create(service, migrations, events, null).start(listen, port);
        }
        return create(service, migrations, events, new HttpsConnector(tls, listen, port)).start();
    }

    /** A configured, not yet started server; with {@code https}, that is its only connector. */
    private static Javalin create(AgentService service, Migrations migrations, EventBus events, HttpsConnector https) {
        ObjectMapper json = ApiJson.strict();
        HttpApi api = new HttpApi(service, migrations, events, json);
        Javalin app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.useVirtualThreads = false;
            cfg.http.prefer405over404 = true;
            cfg.http.maxRequestSize = MAX_BODY_BYTES;
            cfg.jsonMapper(new JavalinJackson(json, false));
            if (https != null) {
                cfg.jetty.addConnector(https::connector);
                ClientAccess access = https.access();
                cfg.router.mount(router -> router.before(access::check));
            }
            cfg.router.apiBuilder(api::routes);
            // Requests Jetty refuses before Javalin sees them (a NUL in the path) get the API's JSON too.
            cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler(json)));
        });
        ApiErrors.register(app);
        return app;
    }

    private void routes() {
        path("v1", () -> {
            get("host", ctx -> ctx.json(service.host()));
            path("vms", () -> {
                get(ctx -> ctx.json(new ApiJson.VmList(service.list())));
                post(ctx -> ctx.status(201).json(service.define(body(ctx, DefineVmRequest.class))));
                path("{name}", () -> {
                    get(ctx -> ctx.json(service.show(ctx.pathParam("name"))));
                    delete(ctx -> {
                        service.undefine(ctx.pathParam("name"));
                        ctx.status(204);
                    });
                    action("start", AgentService::start);
                    action("pause", AgentService::pause);
                    action("resume", AgentService::resume);
                    action("stop", AgentService::stop);
                    action("destroy", AgentService::destroy);
                    post("save", ctx -> ctx.status(202).json(
                            migrations.source().save(ctx.pathParam("name"), body(ctx, SaveRequest.class).file())));
                });
            });
            post("restore", ctx -> ctx.json(service.show(
                    migrations.destination().restore(body(ctx, RestoreRequest.class).file()))));
            path("migrations", () -> {
                get(ctx -> ctx.json(new MigrationList(migrations.source().list())));
                post(ctx -> {
                    MigrateRequest r = body(ctx, MigrateRequest.class);
                    MigrationStatus status = migrations.source().migrate(r.vm(), r.to(), r.params(),
                            Boolean.TRUE.equals(r.dryRun()));
                    ctx.status(status.running() ? 202 : 200).json(status);
                });
                path("{id}", () -> {
                    get(ctx -> ctx.json(migrations.source().show(migrationId(ctx))));
                    post("cancel", ctx -> ctx.json(migrations.source().cancel(migrationId(ctx))));
                    post("tune", ctx -> {
                        TuneRequest r = body(ctx, TuneRequest.class);
                        ctx.json(migrations.source().tune(migrationId(ctx), r.bandwidthMiB(), r.downtimeMs()));
                    });
                    get("tool-output", ctx -> ctx.json(migrations.source().toolOutput(migrationId(ctx))));
                });
            });
            path("peer/migrations/{id}", () -> {
                get("ownership", ctx -> ctx.json(new PeerProtocol.OwnershipReply(
                        migrations.destination().ownership(migrationId(ctx)))));
                post("check", ctx -> ctx.json(migrations.destination().check(incoming(ctx))));
                post("prepare", ctx -> ctx.json(migrations.destination().prepare(incoming(ctx), callerSubject(ctx))));
                post("switchover", ctx -> ctx.json(migrations.destination().switchover(incoming(ctx))));
                post("abort", ctx -> {
                    migrations.destination().abort(incoming(ctx));
                    ctx.status(204);
                });
            });
            before("events", HttpApi::requireEventStream);
            sse("events", this::stream);
        });
    }

    /** A migration id from the path: what this agent makes ({@code [a-z0-9-]}, at most 64), nothing else. */
    static String migrationId(Context ctx) {
        String id = ctx.pathParam("id");
        if (!id.matches("[a-z0-9-]{1,64}")) {
            throw new AgentException(AgentException.Kind.INVALID, "'" + shorten(id)
                    + "' is not a migration id; ids are lower-case letters, digits and '-' ('ferry migration list' shows them)");
        }
        return id;
    }

    private static String shorten(String s) {
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() > 80 ? printable.substring(0, 80) + "..." : printable;
    }

    /** A peer's request; its migration id must be the one in the path. */
    private PeerProtocol.Request incoming(Context ctx) {
        migrationId(ctx);
        PeerProtocol.Request r = body(ctx, PeerProtocol.Request.class);
        if (r.migrationId() == null || !r.migrationId().equals(ctx.pathParam("id")) || r.spec() == null) {
            throw new AgentException(AgentException.Kind.INVALID,
                    "a peer request needs migrationId (equal to the one in the path), sourceHost, spec and mode");
        }
        Identity caller = ctx.attribute(ClientAccess.CALLER);
        if (caller != null && !caller.name().equals(r.sourceHost())) {
            // A peer speaks for itself only: its certificate names the source host it may claim to be.
            throw new AccessDeniedException(403, "forbidden", caller, "host '" + caller.name()
                    + "' may not speak for source host '" + r.sourceHost() + "'");
        }
        return r;
    }

    /** The subject of the caller's certificate, which the incoming QEMU lets in; null over plain HTTP. */
    private static String callerSubject(Context ctx) {
        Identity caller = ctx.attribute(ClientAccess.CALLER);
        return caller == null ? null : caller.subject();
    }

    private void action(String name, BiFunction<AgentService, String, VmInfo> call) {
        post(name, ctx -> ctx.json(call.apply(service, ctx.pathParam("name"))));
    }

    /** Javalin serves the stream only to this exact Accept header and answers anything else with an empty 200. */
    private static void requireEventStream(Context ctx) {
        if (!"text/event-stream".equals(ctx.header("Accept"))) {
            throw new AgentException(AgentException.Kind.INVALID,
                    "GET /v1/events is a server-sent event stream; send the header 'Accept: text/event-stream'");
        }
    }

    private void stream(SseClient client) {
        client.keepAlive();
        AutoCloseable subscription = events.subscribe(e -> {
            try {
                client.sendEvent("vm-state", json.writeValueAsString(e));
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException("Invalid event: " + e, ex);
            }
        });
        client.onClose(() -> {
            try {
                subscription.close();
            } catch (Exception ex) {
                log.debug("closing an event subscription failed", ex);
            }
        });
    }

    /** Reads the body into {@code type}; malformed JSON, unknown fields and oversized bodies are the caller's error. */
    private <T> T body(Context ctx, Class<T> type) {
        byte[] bytes = boundedBody(ctx);
        if (bytes.length == 0) {
            throw new AgentException(AgentException.Kind.INVALID, "the request has no body; send JSON such as {\"spec\": \"<yaml>\"}");
        }
        try {
            return json.readValue(bytes, type);
        } catch (UnrecognizedPropertyException e) {
            throw new AgentException(AgentException.Kind.INVALID, "unknown field '" + e.getPropertyName()
                    + "' in the request; known fields are " + e.getKnownPropertyIds(), e);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw new AgentException(AgentException.Kind.INVALID, "malformed JSON" + where + ": "
                    + e.getOriginalMessage().lines().findFirst().orElse(""), e);
        } catch (IOException e) {
            throw new AgentException(AgentException.Kind.INVALID, "cannot read the request body: " + e.getMessage(), e);
        }
    }

    /** Reads at most the limit, whether or not the client declared a length. */
    private static byte[] boundedBody(Context ctx) {
        if (ctx.contentLength() > MAX_BODY_BYTES) {
            throw ApiErrors.tooLarge(ctx.contentLength());
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            if (bytes.length > MAX_BODY_BYTES) {
                throw ApiErrors.tooLarge(-1);
            }
            return bytes;
        } catch (IOException e) {
            throw new AgentException(AgentException.Kind.INVALID, "cannot read the request body: " + e.getMessage(), e);
        }
    }

}
