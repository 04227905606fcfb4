using System.Security.Claims;
using PlugAndCharge.Core.Participants;

namespace PlugAndCharge.Server.Authentication;

/// <summary>The authenticated participant as claims, and back: endpoints ask for the participant, not for claims.</summary>
public static class ParticipantPrincipal
{
    public const string IdentityClaim = "pnc:identity";
    public const string CredentialClaim = "pnc:credential";

    public static ClaimsPrincipal Create(Participant p, string scheme, string credential)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, p.Id), new(ClaimTypes.Name, p.Name), new(ClaimTypes.Role, p.Role.ToString()),
            new(CredentialClaim, credential),
        };
        claims.AddRange(p.Identities.Select(i => new Claim(IdentityClaim, i)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    public static Participant? Participant(this ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier);
        var role = user.FindFirstValue(ClaimTypes.Role);
        if (id == null || !Enum.TryParse<ParticipantRole>(role, out var r)) return null;
        return new Participant
        {
            Id = id, Name = user.FindFirstValue(ClaimTypes.Name) ?? id, Role = r,
            Identities = user.FindAll(IdentityClaim).Select(c => c.Value).ToList(),
        };
    }
}
