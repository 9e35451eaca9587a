package dev.ferry.vm;

import java.nio.file.Path;

/**
 * A host path that a spec, a save or a restore names and that this host does not let VMs use:
 * outside the configured roots (after resolving symlinks and {@code ..}), of a kind the use does
 * not allow (a character device as a disk), part of the agent's own state, or missing. The message
 * names the field, the path as given and as resolved, and the roots that were allowed.
 */
public final class PathRefusedException extends Exception {
    private final String field;
    private final Path given;
    private final Path resolved;
    private final boolean missing;

    PathRefusedException(String field, Path given, Path resolved, boolean missing, String problem) {
        super(field + ": " + problem);
        this.field = field;
        this.given = given;
        this.resolved = resolved;
        this.missing = missing;
    }

    /** The field that named the path, e.g. {@code devices[0].path}, {@code kernel} or {@code file}. */
    public String field() {
        return field;
    }

    /** The path as the spec or request gave it. */
    public Path given() {
        return given;
    }

    /** What it resolved to (symlinks and {@code ..} followed); null when it could not be resolved. */
    public Path resolved() {
        return resolved;
    }

    /** Whether the path was refused only because nothing is there: the request's mistake, not a forbidden path. */
    public boolean missing() {
        return missing;
    }
}
