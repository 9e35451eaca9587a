package dev.ferry.cli;

import dev.ferry.agent.FerryVersion;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * Entry point of the {@code ferry} command line. Exit codes: 0 success, 1 the agent refused or
 * failed, 2 wrong usage (or a file the command names cannot be read), 3 no agent answered.
 */
@Command(name = "ferry", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Live-migrate QEMU VMs between hosts together with their devices.",
        subcommands = {
                AgentCommand.class,
                VmCommand.class,
                HostCommand.class,
                DemoCommand.class,
                MigrateCommand.class,
                MigrationCommand.class,
                SaveCommand.class,
                RestoreCommand.class,
                GuestCommand.class,
                ToolCommand.class,
                PkiCommand.class,
        })
public final class Main extends CommandGroup {

    public static void main(String[] args) {
        int code = run(args, System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; what it prints goes to {@code out} and {@code err}. */
    static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(new CliEnv(env));
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("ferry: " + e.getMessage());
            err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            err.flush();
            return CliFailure.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("ferry: " + (e instanceof CliFailure ? e.getMessage() : e.toString()));
            if (parseResult.originalArgs().contains("--debug")) {
                e.printStackTrace(err);
            }
            err.flush();
            return e instanceof CliFailure f ? f.exitCode() : CliFailure.AGENT_ERROR;
        });
        return cli.execute(args);
    }

    static CommandLine commandLine(CliEnv env) {
        return new CommandLine(new Main(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                try {
                    return type.getDeclaredConstructor(CliEnv.class).newInstance(env);
                } catch (NoSuchMethodException e) {
                    return CommandLine.defaultFactory().create(type);
                }
            }
        });
    }

    /** {@code ferry --version}. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ferry " + FerryVersion.get()};
        }
    }
}
