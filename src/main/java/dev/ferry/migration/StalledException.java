package dev.ferry.migration;

/**
 * A migration that stopped making progress, or a party that stopped answering, for longer than the
 * migration's stall timeout. Its message names who stalled; {@link #inStream()} says that the
 * source still answers but its stream does not move, so the receiving side is the suspect.
 */
public final class StalledException extends MigrationException {
    private final boolean inStream;
    private final boolean causeUnknown;

    private StalledException(String message, boolean inStream, boolean causeUnknown) {
        super(message);
        this.inStream = inStream;
        this.causeUnknown = causeUnknown;
    }

    /** The source QEMU answers, but the copy it sends did not move. */
    static StalledException stream(String message) {
        return new StalledException(message, true, false);
    }

    /** A party (the source's QEMU, a peer agent) did not answer. */
    public static StalledException unanswered(String message) {
        return new StalledException(message, false, false);
    }

    /**
     * The source's QEMU did not answer and nothing on this host explains it: while it sends the
     * final copy it holds its big lock, so a stream the receiver does not take silences it too.
     */
    static StalledException silentSource(String message) {
        return new StalledException(message, false, true);
    }

    /** Whether the source's QEMU fell silent with no stopped process here to blame. */
    boolean sourceSilentWithoutCause() {
        return causeUnknown;
    }

    /** Whether the copy stalled while the source answered: the destination (or the link) is the suspect. */
    boolean inStream() {
        return inStream;
    }
}
