using Dapper;
using Npgsql;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Tests.Webhooks;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Contracts;
using PlugAndCharge.Tests;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Contracts.Tests.Storage;

public sealed class PostgresContractFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;
    public PostgresPkiStore Pki { get; private set; } = null!;
    public PostgresContractStores Store { get; private set; } = null!;
    public ContractWorld World { get; private set; } = null!;
    public ContractOptions Options { get; } = ContractWorld.Options();

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        (Db, Pki, Store) = await ContractDatabase.OpenAsync(Database.ConnectionString);
        var ca = new CertificateAuthorityServices(Pki, Pki, Pki, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, new PkiOptions());
        World = await ContractWorld.CreateAsync(ca, c => new ContractServices(c, Store.Roots, Store.Vehicles, Store.Contracts, Store.Webhooks, Options));
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await Pki.DisposeAsync();
        await Db.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public class PostgresContractStoreTests(PostgresContractFixture fx) : IClassFixture<PostgresContractFixture>
{
    private ContractWorld W => fx.World;

    [Fact]
    public async Task Installation_and_update_persist_and_a_fresh_store_reads_the_same_contract()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        using var installed = car.AcceptIso2Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        var renewed = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(installed));
        using var second = car.AcceptIso2Response(renewed.Response, installed);

        await using var other = new PostgresContractStore(fx.Db);
        var stored = (await other.FindByEmaidAsync(contract.Emaid)).Single();
        Assert.Equal(second.Certificate, stored.Certificate!.Der);
        Assert.Equal(2, stored.Certificate.SubCaDers.Count);
        Assert.True(stored.IsDefault);
        Assert.NotNull(stored.Certificate.WrappedPrivateKey);
        // The clear scalar never reaches the database.
        var scalar = second.Key.ExportParameters(true).D!;
        Assert.False(stored.Certificate.WrappedPrivateKey.AsSpan().IndexOf(scalar) >= 0);
        var (vehicle, active) = await other.GetInstallationContextAsync(car.Pcid);
        Assert.Equal(car.Pcid, vehicle!.Pcid);
        Assert.Single(active);
    }

    [Fact]
    public async Task Concurrent_installations_all_succeed_and_the_audit_chain_stays_intact()
    {
        var cars = new List<PlugAndCharge.TestSupport.Vehicles.VehicleSimulator>();
        for (var i = 0; i < 24; i++) cars.Add((await W.VehicleWithContractAsync()).Vehicle);
        var outcomes = await Task.WhenAll(cars.Select(c => Task.Run(() => W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, c.BuildInstallationRequest()))));
        Assert.All(outcomes, o => Assert.True(o.IsOk, o.Detail));
        for (var i = 0; i < cars.Count; i++) using (cars[i].AcceptIso2Response(outcomes[i].Response)) { }
        var verification = await AuditChain.VerifyAsync(fx.Pki.ReadAllAsync());
        Assert.True(verification.Intact, verification.Detail);
    }

    [Fact]
    public async Task Of_two_certificates_committed_out_of_order_the_one_issued_later_stays_current()
    {
        // Two installations of one contract on two instances, or a batch retried after a database restart: the one
        // issued first may commit last. The fault suite found the earlier certificate left as the contract's current one.
        var (car, contract) = await W.VehicleWithContractAsync();
        Assert.True((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).IsOk);
        var first = (await fx.Store.Contracts.FindByEmaidAsync(contract.Emaid)).Single().Certificate!;
        await W.Services.Contracts.EnsureCertificateAsync(contract, "test", forceNew: true, KeyAlgorithm.EcP256, default);
        var second = (await fx.Store.Contracts.FindByEmaidAsync(contract.Emaid)).Single().Certificate!;
        Assert.NotEqual(first.Serial, second.Serial);

        // The first one's commit arrives now, with the time it was issued at (before the second).
        await using var conn = await fx.Db.OpenConnectionAsync();
        var secondAt = await conn.ExecuteScalarAsync<DateTime>("select recorded_at from contract_certificates where contract_id = @Id", new { contract.Id });
        await fx.Store.Contracts.RecordCertificateAsync(contract.Id, first, null, new DateTimeOffset(DateTime.SpecifyKind(secondAt, DateTimeKind.Utc)).AddSeconds(-1),
            new Pki.Stores.AuditEvent("test", "contract.certificate", contract.Emaid), []);

        Assert.Equal(second.Serial, (await fx.Store.Contracts.FindByEmaidAsync(contract.Emaid)).Single().Certificate!.Serial);
        Assert.Equal(second.Serial, await conn.ExecuteScalarAsync<string>(
            "select h.serial from contract_certificate_history h where h.contract_id = @Id order by h.recorded_at desc limit 1", new { contract.Id }));
        // A later one still replaces it.
        await W.Services.Contracts.EnsureCertificateAsync(contract, "test", forceNew: true, KeyAlgorithm.EcP256, default);
        Assert.NotEqual(second.Serial, (await fx.Store.Contracts.FindByEmaidAsync(contract.Emaid)).Single().Certificate!.Serial);
    }

    [Fact]
    public async Task A_termination_in_flight_holds_off_the_certificate_of_an_installation_and_wins()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        // A termination that has updated the contract row but not committed yet.
        await using var conn = await fx.Db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("update contracts set state = 'Terminated', is_default = false where id = @Id", new { contract.Id }, tx);

        // The installation still reads the contract as active, signs, and then waits for the row at its commit.
        var installation = Task.Run(() => W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()));
        await Task.Delay(500);
        Assert.False(installation.IsCompleted);
        await tx.CommitAsync();

        var outcome = await installation;
        Assert.False(outcome.IsOk);
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select count(*) from contract_certificates where contract_id = @Id", new { contract.Id }));
        Assert.Null((await fx.Store.Contracts.GetContractAsync(contract.Id))!.Certificate);
    }

    [Fact]
    public async Task A_contract_certificate_and_the_CA_record_of_it_commit_in_one_transaction()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        var linked = (await fx.Store.Contracts.FindByEmaidAsync(contract.Emaid)).Single().Certificate!;
        var record = await fx.Pki.GetAsync(linked.IssuerId!, linked.Serial);
        Assert.Equal(Pki.Stores.CertificateStatus.Valid, record!.Status);
        Assert.Equal("iso2/contract", record.ProfileId);
        Assert.Contains(contract.Emaid, record.Subject);
        Assert.Equal(linked.Der, record.Der);
        // The CA's entry directly precedes the contract's entry that links the certificate.
        var entries = new List<Pki.Stores.AuditEntry>();
        await foreach (var e in fx.Pki.ReadAllAsync()) entries.Add(e);
        var link = entries.FindLastIndex(e => e.Action == "contract.certificate" && e.Subject == contract.Emaid);
        Assert.Equal(("certificate.issue", $"{linked.IssuerId}/{linked.Serial}"), (entries[link - 1].Action, entries[link - 1].Subject));

        // A contract ended while its certificate was being signed: neither is stored, the serial is Failed and audited.
        await W.Services.Contracts.TerminateAsync(ContractWorld.Emsp, contract.Emaid, "ended", "test");
        await Assert.ThrowsAsync<ContractException>(() => W.Services.Contracts.EnsureCertificateAsync(contract, "test", forceNew: true, KeyAlgorithm.EcP256, default));
        await using var conn = await fx.Db.OpenConnectionAsync();
        var failed = await conn.QuerySingleAsync<(string Serial, byte[]? Der)>(
            "select serial, der from certificates where issuer_id = @IssuerId and status = 'Failed' order by created_at desc limit 1", new { linked.IssuerId });
        Assert.Null(failed.Der);
        var last = entries.Count;
        entries.Clear();
        await foreach (var e in fx.Pki.ReadAllAsync()) entries.Add(e);
        Assert.Contains(entries.Skip(last), e => e.Action == "certificate.issue-failed" && e.Subject == $"{linked.IssuerId}/{failed.Serial}");
        Assert.DoesNotContain(entries.Skip(last), e => e.Action is "certificate.issue" or "contract.certificate");
        // The rolled-back transaction left nothing behind on the pooled connections: the next installation commits.
        var (next, _) = await W.VehicleWithContractAsync();
        Assert.True((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, next.BuildInstallationRequest())).IsOk);
        entries.Clear();
        await foreach (var e in fx.Pki.ReadAllAsync()) entries.Add(e);
        var verification = await AuditChain.VerifyAsync(fx.Pki.ReadAllAsync());
        Assert.True(verification.Intact, verification.Detail);
    }

    [Fact]
    public async Task Termination_and_vehicle_deletion_purge_keys_in_the_database()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        await W.Services.Contracts.IssueCertificateAsync(null, contract.Emaid, "test");
        var second = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, IssueCertificate = true }, "test");
        await W.Services.Contracts.TerminateAsync(ContractWorld.Emsp, contract.Emaid, "ended", "test");
        await using var conn = await fx.Db.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string State, byte[]? Key)>("select k.state, c.wrapped_private_key from contracts k join contract_certificates c on c.contract_id = k.id where k.id = @Id", new { contract.Id });
        Assert.Equal(("Terminated", (byte[]?)null), row);

        await W.Services.Vehicles.DeleteAsync(ContractWorld.Oem, car.Pcid, "test");
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from contracts k left join contract_certificates c on c.contract_id = k.id where k.pcid = @Pcid and (k.state = 'Active' or c.wrapped_private_key is not null or c.signed_data is not null)", new { car.Pcid }));
        Assert.Equal(ContractState.Terminated, (await W.Services.Contracts.GetStatusAsync(second.Emaid)).State);
        Assert.Equal(ContractCertificateState.Revoked, (await W.Services.Contracts.GetStatusAsync(second.Emaid)).Certificate);
        Assert.Equal(ContractError.AlreadyExists, (await Assert.ThrowsAsync<ContractException>(() => W.Services.Roots.AddAsync(W.V2GRoot2.GetEncoded(), RootType.V2G, null, null, "t"))).Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_certificate_committed_while_its_contract_ends_is_revoked_too(bool deleteVehicle)
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        var first = (await W.Services.Contracts.IssueCertificateAsync(null, contract.Emaid, "test")).Certificate!;
        await using var holder = await fx.Db.OpenConnectionAsync();
        await using var tx = await holder.BeginTransactionAsync();
        // Hold the contract row for share, as a certificate commit does: the ending revokes the current certificate,
        // then its update of the contract waits.
        await holder.ExecuteAsync("select 1 from contracts where id = @Id for share", new { contract.Id }, tx);
        Task ending = deleteVehicle
            ? W.Services.Vehicles.DeleteAsync(ContractWorld.Oem, car.Pcid, "test")
            : W.Services.Contracts.TerminateAsync(ContractWorld.Emsp, contract.Emaid, "ended", "test");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        // On a connection of its own: a transaction sees one snapshot of pg_stat_activity.
        await using var watcher = await fx.Db.OpenConnectionAsync();
        while (await watcher.ExecuteScalarAsync<long>("select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'update contracts set state%'") == 0)
        {
            Assert.False(ending.IsCompleted, ending.Exception?.ToString());
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "The ending never reached its update of the contract.");
            await Task.Delay(20);
        }
        Assert.Equal(Pki.Stores.CertificateStatus.Revoked, (await fx.Pki.GetAsync(first.IssuerId!, first.Serial))!.Status);

        // Meanwhile a new certificate becomes the contract's current one (the contract is still active to everyone else).
        var second = (await W.Services.Contracts.IssueCertificateAsync(null, contract.Emaid, "test")).Certificate!;
        Assert.Equal(Pki.Stores.CertificateStatus.Valid, (await fx.Pki.GetAsync(second.IssuerId!, second.Serial))!.Status);
        await tx.CommitAsync();
        await ending;

        var ended = (await fx.Store.Contracts.GetContractAsync(contract.Id))!;
        Assert.Equal((ContractState.Terminated, second.Serial, (byte[]?)null), (ended.State, ended.Certificate!.Serial, ended.Certificate.WrappedPrivateKey));
        Assert.Equal(Pki.Stores.CertificateStatus.Revoked, (await fx.Pki.GetAsync(second.IssuerId!, second.Serial))!.Status);
        Assert.Equal(ContractCertificateState.Revoked, (await W.Services.Contracts.GetStatusAsync(contract.Emaid)).Certificate);
    }

    [Fact]
    public async Task The_outbox_is_written_with_the_change_and_delivered_to_a_real_receiver()
    {
        using var receiver = new WebhookReceiver();
        var created = await W.Services.Webhooks.CreateAsync(ContractWorld.Oem, receiver.Url, [WebhookEvents.ContractCreated, WebhookEvents.ContractDeleted], null, "oem");
        var (car, contract) = await W.VehicleWithContractAsync();
        await W.Services.Contracts.TerminateAsync(null, contract.Emaid, "end", "test");
        using var http = new HttpClient();
        var dispatcher = new WebhookDispatcher(fx.Store.Webhooks, W.Services.Webhooks, http, new WebhookDispatchOptions(), TimeProvider.System);
        while (await dispatcher.RunOnceAsync() > 0) { }
        var deliveries = await W.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id);
        Assert.Equal([WebhookEvents.ContractCreated, WebhookEvents.ContractDeleted], deliveries.Select(d => d.EventType).Order().ToArray());
        Assert.All(deliveries, d => Assert.Equal(WebhookDeliveryState.Delivered, d.State));
        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.Contains(car.Pcid, r.Body));
        Assert.Single(await fx.Store.Webhooks.ListAttemptsAsync(deliveries[0].Id));
    }
}
