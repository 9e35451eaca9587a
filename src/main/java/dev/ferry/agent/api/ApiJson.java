package dev.ferry.agent.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.ferry.agent.VmInfo;
import java.util.List;

/** The API's JSON: the mapper both ends use, and the shapes that only exist on the wire. */
public final class ApiJson {
    private ApiJson() {}

    /** For reading requests: unknown fields are an error, so a typo is not silently ignored. */
    public static ObjectMapper strict() {
        return base().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** For reading responses: a newer agent may add fields an older client does not know. */
    public static ObjectMapper lenient() {
        return base().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    private static ObjectMapper base() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    /** Every error response: {@code {"error":{"code":"not_found","message":"vm 'x' not found"}}}. */
    public record ErrorResponse(Error error) {
        public record Error(String code, String message) {}

        public static ErrorResponse of(String code, String message) {
            return new ErrorResponse(new Error(code, message));
        }
    }

    /** Body of {@code GET /v1/vms}. */
    public record VmList(List<VmInfo> vms) {}
}
