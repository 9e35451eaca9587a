package dev.ferry.migration;

/**
 * A migration that stopped making progress, or a party that stopped answering, for longer than the
 * migration's stall timeout. Its message names who stalled; {@link #inStream()} says that the
 * source still answers but its stream does not move, so the receiving side is the suspect.
 */
public final class StalledException extends MigrationException {
    private final boolean inStream;

    private StalledException(String message, boolean inStream) {
        super(message);
        this.inStream = inStream;
    }

    /** The source QEMU answers, but the copy it sends did not move. */
    static StalledException stream(String message) {
        return new StalledException(message, true);
    }

    /** A party (the source's QEMU, a peer agent) did not answer. */
    public static StalledException unanswered(String message) {
        return new StalledException(message, false);
    }

    /** Whether the copy stalled while the source answered: the destination (or the link) is the suspect. */
    boolean inStream() {
        return inStream;
    }
}
