package dev.ferry.agent.config;

/** An agent configuration that cannot be used; the message names the field and how to fix it. */
public final class ConfigException extends Exception {
    private final String field;

    public ConfigException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public ConfigException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
    }

    /** The dotted path of the offending field, e.g. {@code tools.tpm.timeouts.sync}. */
    public String field() {
        return field;
    }
}
