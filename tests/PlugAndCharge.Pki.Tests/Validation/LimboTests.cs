using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>The x509-limbo suite (tests/vectors/limbo/limbo.json) against <see cref="ChainValidator"/>.</summary>
    public sealed class LimboTests
    {
        // One validator for the whole suite, as in production: caches must never leak one case's verdict into another.
        private static readonly ChainValidator Validator = new();

        private readonly ITestOutputHelper _output;

        public LimboTests(ITestOutputHelper output)
        {
            _output = output;
        }

        public static TheoryData<string> SupportedCases()
        {
            var data = new TheoryData<string>();
            foreach (var testCase in LimboCase.All)
            {
                if (testCase.SkipReason is null)
                {
                    data.Add(testCase.Id);
                }
            }

            return data;
        }

        [Theory]
        [MemberData(nameof(SupportedCases))]
        public void Case_gives_the_expected_result(string id)
        {
            var testCase = LimboCase.Get(id);
            var result = testCase.Run(Validator, out var parseError);
            var valid = result?.IsValid ?? false;
            var detail = result is null ? "unparseable leaf: " + parseError : $"{result.Reason} at {result.FailingIndex}: {result.Detail}";
            _output.WriteLine(detail);
            Assert.True(valid == testCase.ExpectSuccess, $"{id}: expected {(testCase.ExpectSuccess ? "SUCCESS" : "FAILURE")}, got {(valid ? "valid" : detail)}");
        }

        [Fact]
        public void Suite_summary_skips_only_unsupported_features()
        {
            var stopwatch = Stopwatch.StartNew();
            int passed = 0, failed = 0, skipped = 0;
            foreach (var testCase in LimboCase.All)
            {
                if (testCase.SkipReason is not null)
                {
                    skipped++;
                    _output.WriteLine($"skipped {testCase.Id}: {testCase.SkipReason}");
                    continue;
                }

                var valid = testCase.Run(Validator, out _)?.IsValid ?? false;
                if (valid == testCase.ExpectSuccess)
                {
                    passed++;
                }
                else
                {
                    failed++;
                    _output.WriteLine("mismatch " + testCase.Id);
                }
            }

            _output.WriteLine($"x509-limbo: {passed} passed, {failed} failed, {skipped} skipped of {LimboCase.All.Count} in {stopwatch.ElapsedMilliseconds} ms");
            Assert.Equal(208, LimboCase.All.Count);
            Assert.Equal(0, failed);
            Assert.Equal(7, skipped);
        }
    }
}
