using Xunit;

// One PKCS#11 module per process: its login state and sessions are process-wide, shared by every provider the tests
// open (one with a wrong PIN, ones that are disposed). A full run once saw C_GenerateKeyPair answer
// CKR_TEMPLATE_INCONSISTENT while other tests ran beside it; the tests take about two seconds in a row, so they run in
// a row and cannot disturb each other's sessions.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
