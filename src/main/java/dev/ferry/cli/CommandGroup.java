package dev.ferry.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code ferry vm}, {@code ferry host}, ...). */
abstract class CommandGroup implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Without a subcommand, lists them (on stderr, since nothing was done) and counts as a usage error. */
    @Override
    public final Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CliFailure.USAGE;
    }
}
