package dev.ferry.agent.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/** Jetty's own error answers (requests refused before routing) in the API's JSON shape instead of HTML. */
final class JsonErrorHandler extends ErrorHandler {
    private final ObjectMapper json;

    JsonErrorHandler(ObjectMapper json) {
        this.json = json;
    }

    /** Requests the HTTP parser refuses (a NUL in the path) never reach a handler; Jetty asks here for their body. */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        try {
            return ByteBuffer.wrap(json.writeValueAsBytes(ApiJson.ErrorResponse.of(status == 400 ? "invalid_request"
                    : "http_" + status, "the request was refused before it reached the API: "
                    + (reason == null ? "bad message" : reason.toLowerCase(Locale.ROOT))
                    + "; check the path for characters such as NUL")));
        } catch (IOException e) {
            return super.badMessageError(status, reason, fields);
        }
    }

    @Override
    public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        baseRequest.setHandled(true);
        int status = response.getStatus();
        String reason = (String) request.getAttribute("jakarta.servlet.error.message");
        String code = status == 400 ? "invalid_request" : "http_" + status;
        String message = "the request was refused before it reached the API"
                + (reason == null || reason.isBlank() ? "" : ": " + reason.toLowerCase(Locale.ROOT));
        response.setContentType("application/json");
        response.getOutputStream().write(json.writeValueAsBytes(ApiJson.ErrorResponse.of(code, message)));
    }
}
