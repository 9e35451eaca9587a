package dev.ferry.proc;

/**
 * What a process wrote to one stream.
 *
 * @param text       the last bytes kept (at most the command's captureBytes), decoded as UTF-8
 * @param truncated  whether earlier bytes were dropped
 * @param totalBytes how many bytes the process wrote in all
 */
public record Output(String text, boolean truncated, long totalBytes) {

    public static final Output EMPTY = new Output("", false, 0);

    /** The last line that is not blank, or "" when there is none. */
    public String lastLine() {
        String[] lines = text.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isBlank()) {
                return lines[i].strip();
            }
        }
        return "";
    }
}
