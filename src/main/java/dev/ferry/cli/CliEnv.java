package dev.ferry.cli;

import java.util.Map;

/** What commands read from outside the command line: the environment. Injected so tests choose it. */
record CliEnv(Map<String, String> variables) {
    CliEnv {
        variables = Map.copyOf(variables);
    }
}
