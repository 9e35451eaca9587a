package dev.ferry.agent.api;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.store.StateStoreException;
import dev.ferry.migration.RequestException;
import dev.ferry.vm.IllegalVmTransitionException;
import io.javalin.Javalin;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every failure leaves the API as {@code {"error":{"code":"...","message":"..."}}} with a status
 * that says whose fault it is; unknown routes and wrong methods too, so clients parse one shape.
 */
final class ApiErrors {
    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

    private ApiErrors() {}

    static void register(Javalin app) {
        app.exception(AgentException.class, (e, ctx) -> agentError(e, ctx));
        app.exception(AccessDeniedException.class, (e, ctx) -> {
            log.warn("refused {} {} from {}: {}", ctx.method(), ctx.path(),
                    e.caller() == null ? "a caller without a client certificate" : e.caller(), e.getMessage());
            respond(ctx, HttpStatus.forStatus(e.status()), e.code(), e.getMessage());
        });
        app.exception(RequestException.class, (e, ctx) -> migrationError(e, ctx));
        app.exception(IllegalVmTransitionException.class,
                (e, ctx) -> respond(ctx, HttpStatus.CONFLICT, "illegal_transition", e.getMessage()));
        app.exception(HttpResponseException.class, (e, ctx) -> httpError(e, ctx));
        app.exception(java.nio.file.InvalidPathException.class, (e, ctx) -> respond(ctx, HttpStatus.BAD_REQUEST,
                "invalid_request", "not a valid path: " + e.getReason() + "; give an absolute path without NUL characters"));
        app.exception(StateStoreException.class, (e, ctx) -> {
            log.error("{} {}: {}", ctx.method(), ctx.path(), e.getMessage(), e);
            respond(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "state_store", e.getMessage());
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            respond(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "internal",
                    "the agent failed on " + ctx.method() + " " + ctx.path() + ": " + e + "; see the agent's log");
        });
        // Routes that exist but have no handler for the method, and paths no route matches, end here
        // when Javalin did not raise an exception for them.
        app.error(HttpStatus.NOT_FOUND, ctx -> {
            if (ctx.result() == null) {
                respond(ctx, HttpStatus.NOT_FOUND, "no_route", noRoute(ctx));
            }
        });
    }

    static HttpResponseException tooLarge(long declared) {
        String size = declared > 0 ? "is " + declared + " bytes" : "is larger than that";
        return new ContentTooLargeResponse("request bodies are limited to " + HttpApi.MAX_BODY_BYTES
                + " bytes and this one " + size + "; a VM spec should be a few KiB");
    }

    private static void agentError(AgentException e, Context ctx) {
        switch (e.kind()) {
            case NOT_FOUND -> respond(ctx, HttpStatus.NOT_FOUND, "not_found", e.getMessage());
            case BUSY -> respond(ctx, HttpStatus.CONFLICT, "busy", e.getMessage());
            case CONFLICT -> respond(ctx, HttpStatus.CONFLICT, "conflict", e.getMessage());
            case NOT_TAKEN -> respond(ctx, HttpStatus.CONFLICT, "not_taken", e.getMessage());
            case INVALID -> respond(ctx, HttpStatus.BAD_REQUEST, "invalid_request", e.getMessage());
            case INVALID_SPEC -> respond(ctx, HttpStatus.BAD_REQUEST, "invalid_spec", e.getMessage());
            case PATH_NOT_ALLOWED -> {
                log.warn("{} {} refused: {}", ctx.method(), ctx.path(), e.getMessage());
                respond(ctx, HttpStatus.FORBIDDEN, "path_not_allowed", e.getMessage());
            }
            case FAILED -> {
                log.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
                respond(ctx, HttpStatus.INTERNAL_SERVER_ERROR, "vm_failed", e.getMessage());
            }
            default -> throw new IllegalStateException("Invalid error kind: " + e.kind());
        }
    }

    /** A migration's refusal answers exactly as the agent's own error of the same kind. */
    private static void migrationError(RequestException e, Context ctx) {
        AgentException.Kind kind = switch (e.kind()) {
            case NOT_FOUND -> AgentException.Kind.NOT_FOUND;
            case CONFLICT -> AgentException.Kind.CONFLICT;
            case NOT_TAKEN -> AgentException.Kind.NOT_TAKEN;
            case INVALID -> AgentException.Kind.INVALID;
            case INVALID_SPEC -> AgentException.Kind.INVALID_SPEC;
            case PATH_NOT_ALLOWED -> AgentException.Kind.PATH_NOT_ALLOWED;
            case FAILED -> AgentException.Kind.FAILED;
        };
        agentError(new AgentException(kind, e.getMessage(), e), ctx);
    }

    private static void httpError(HttpResponseException e, Context ctx) {
        HttpStatus status = HttpStatus.forStatus(e.getStatus());
        switch (status) {
            case NOT_FOUND -> respond(ctx, status, "no_route", noRoute(ctx));
            case METHOD_NOT_ALLOWED -> respond(ctx, status, "method_not_allowed",
                    ctx.method() + " is not allowed on " + ctx.path());
            case CONTENT_TOO_LARGE -> respond(ctx, status, "body_too_large", e.getMessage());
            default -> respond(ctx, status, status.name().toLowerCase(java.util.Locale.ROOT), e.getMessage());
        }
    }

    private static String noRoute(Context ctx) {
        return "no route " + ctx.method() + " " + ctx.path() + "; the API lives under /v1 (e.g. GET /v1/vms)";
    }

    private static void respond(Context ctx, HttpStatus status, String code, String message) {
        ctx.status(status).json(ApiJson.ErrorResponse.of(code, message));
    }
}
