using Vivace.Cli;

return CliApp.Run(args);
