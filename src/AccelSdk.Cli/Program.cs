using System.Globalization;
using AccelSdk.Cli;
using AccelSdk.Diagnostics;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
AccelSdkDiagnostics.Warning += message => Console.Error.WriteLine("accelsdk: warning: " + message);
return Cli.Execute(args);
