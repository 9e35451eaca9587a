package dev.ferry.cli;

/** A command that failed in a way the user should read about in one line; carries the exit code. */
final class CliFailure extends RuntimeException {
    /** The agent answered with an error. */
    static final int AGENT_ERROR = 1;
    /** The command line or a file it names is wrong. */
    static final int USAGE = 2;
    /** No agent answered at the URL. */
    static final int UNREACHABLE = 3;

    private final int exitCode;

    CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
