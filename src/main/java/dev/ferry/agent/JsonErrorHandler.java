package dev.ferry.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/** Jetty's own error answers (requests refused before routing) in the API's JSON shape instead of HTML. */
final class JsonErrorHandler extends ErrorHandler {
    private final ObjectMapper json;

    JsonErrorHandler(ObjectMapper json) {
        this.json = json;
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
