package dev.ferry.vm;

/** A VM spec that is not valid; names the offending field (a dotted path such as {@code devices[2].bridge}). */
public final class SpecException extends Exception {
    private final String field;

    public SpecException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
