package dev.ferry.cli;

/** Entry point of the {@code ferry} command line. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(0);
    }
}
