// Users and roles: members (change role, deactivate), open invitations (revoke), invite. The
// accept link is shown once, right after the invitation is made.
import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Badge, Button, Card, EmptyState, Modal, Skeleton } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  ChangeUserRoleMutation as ChangeRoleData, ChangeUserRoleMutationVariables,
  DeactivateUserMutation as DeactivateData, DeactivateUserMutationVariables,
  InviteUserMutation as InviteData, InviteUserMutationVariables,
  RevokeInvitationMutation as RevokeData, RevokeInvitationMutationVariables,
  Role,
  SettingsInvitationsQuery as InvitationsData,
  SettingsMembersQuery as MembersData,
} from "../../gql/generated";
import { atLeast } from "../../lib/auth";
import { relativeTime, titleCase } from "../../lib/format";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import { ChangeUserRoleMutation, DeactivateUserMutation, InviteUserMutation, RevokeInvitationMutation, SettingsInvitationsQuery, SettingsMembersQuery } from "./operations";

const ROLES: Role[] = ["VIEWER", "AGENT", "ADMIN", "OWNER"];
type Member = MembersData["users"][number];

export function UsersSection() {
  const toast = useToast();
  const { can, role: myRole, viewer } = useSession();
  const admin = can("ADMIN");
  const [members, refetchMembers] = useQuery<MembersData>({ query: SettingsMembersQuery, requestPolicy: "cache-and-network" });
  const [invitations, refetchInvitations] = useQuery<InvitationsData>({ query: SettingsInvitationsQuery, pause: !admin, requestPolicy: "cache-and-network" });
  const [, invite] = useMutation<InviteData, InviteUserMutationVariables>(InviteUserMutation);
  const [, changeRole] = useMutation<ChangeRoleData, ChangeUserRoleMutationVariables>(ChangeUserRoleMutation);
  const [, deactivate] = useMutation<DeactivateData, DeactivateUserMutationVariables>(DeactivateUserMutation);
  const [, revoke] = useMutation<RevokeData, RevokeInvitationMutationVariables>(RevokeInvitationMutation);
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<Role>("AGENT");
  const [busy, setBusy] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  useEffect(() => {
    const error = members.error ?? invitations.error;
    if (error) toast.error(`Could not load users: ${error.message}`);
  }, [members.error, invitations.error, toast]);

  const reload = () => {
    refetchMembers({ requestPolicy: "network-only" });
    if (admin) refetchInvitations({ requestPolicy: "network-only" });
  };
  async function act(key: string, action: () => Promise<string | null>, done: string) {
    setBusy(key);
    try {
      const failure = await action();
      if (failure) toast.error(failure);
      else toast.success(done);
      reload();
    } finally {
      setBusy(null);
    }
  }
  // Nobody grants a role above their own; owners are managed by owners.
  const grantable = ROLES.filter((r) => atLeast(myRole, r));
  const rows = members.data?.users ?? [];
  const open = invitations.data?.invitations ?? [];

  return (
    <div className="col" style={{ gap: 16 }} data-testid="settings-users">
      {admin ? (
        <Card>
          <form className="col" style={{ gap: 10 }} onSubmit={(e) => {
            e.preventDefault();
            void act("invite", async () => {
              const r = await invite({ email: email.trim(), role: inviteRole });
              const failure = r.error ? r.error.message : failureOf(r.data?.inviteUser, "Invitation");
              const created = r.data?.inviteUser;
              if (!failure && created?.__typename === "Invitation") {
                setEmail("");
                if (created.acceptToken) setLink(`${window.location.origin}/app/invitation?token=${encodeURIComponent(created.acceptToken)}`);
              }
              return failure;
            }, "Invitation created.");
          }}>
            <h2>Invite someone</h2>
            <div className="row" style={{ gap: 8, flexWrap: "wrap" }}>
              <input className="input" type="email" required placeholder="name@example.com" aria-label="Email to invite" value={email} onChange={(e) => setEmail(e.target.value)} style={{ flex: "1 1 240px", width: "auto" }} />
              <select className="select" style={{ flex: "0 0 140px", width: 140 }} aria-label="Role to invite" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
                {grantable.map((r) => <option key={r} value={r}>{titleCase(r)}</option>)}
              </select>
              <Button type="submit" variant="primary" busy={busy === "invite"} data-testid="invite">Invite</Button>
            </div>
          </form>
        </Card>
      ) : null}
      <Card pad={false}>
        <div className="card-pad" style={{ paddingBottom: 4 }}><h2>Members</h2></div>
        {members.fetching && !members.data ? <div className="card-pad col">{Array.from({ length: 3 }, (_, i) => <Skeleton key={i} height={28} />)}</div> : rows.length === 0 ? (
          <EmptyState icon="user" title="No members" />
        ) : (
          <div style={{ overflowX: "auto" }}>
            <table className="table" data-testid="members">
              <thead><tr><th>Name</th><th>Role</th><th>Last sign-in</th>{admin ? <th /> : null}</tr></thead>
              <tbody>
                {rows.map((m) => {
                  const self = m.id === viewer?.user.id;
                  const manageable = admin && !self && m.isActive && atLeast(myRole, m.role as Role);
                  return (
                    <tr key={m.id} data-testid="member">
                      <td><strong>{m.name}</strong>{self ? <span className="small muted"> (you)</span> : null}<div className="small muted">{m.email}</div></td>
                      <td>
                        {manageable ? (
                          <select className="select" aria-label={`Role of ${m.name}`} value={m.role} disabled={busy === `role-${m.id}`} onChange={(e) => {
                            const role = e.target.value as Role;
                            void act(`role-${m.id}`, async () => {
                              const r = await changeRole({ userId: m.id, role });
                              return r.error ? r.error.message : failureOf(r.data?.changeUserRole, "Member");
                            }, `${m.name} is now ${titleCase(role)}.`);
                          }}>
                            {grantable.map((r) => <option key={r} value={r}>{titleCase(r)}</option>)}
                          </select>
                        ) : <Badge tone={m.role === "OWNER" ? "brand" : undefined}>{titleCase(m.role)}</Badge>}
                        {!m.isActive ? <Badge tone="danger">Deactivated</Badge> : null}
                      </td>
                      <td className="small muted">{m.lastLoginAt ? relativeTime(m.lastLoginAt) : "never"}</td>
                      {admin ? <td>{manageable ? <Button size="sm" variant="ghost" onClick={() => setRemoving(m)}>Deactivate</Button> : null}</td> : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {admin ? (
        <Card pad={false}>
          <div className="card-pad" style={{ paddingBottom: 4 }}><h2>Open invitations</h2></div>
          {invitations.fetching && !invitations.data ? <div className="card-pad"><Skeleton height={28} /></div> : open.length === 0 ? (
            <div className="card-pad small muted">None open.</div>
          ) : (
            <div style={{ overflowX: "auto" }}>
              <table className="table" data-testid="invitations">
                <thead><tr><th>Email</th><th>Role</th><th>Expires</th><th /></tr></thead>
                <tbody>
                  {open.map((i) => (
                    <tr key={i.id} data-testid="invitation">
                      <td>{i.email}<div className="small muted">{i.invitedBy ? `by ${i.invitedBy.name}` : ""}</div></td>
                      <td>{titleCase(i.role)}</td>
                      <td className="small muted">{new Date(i.expiresAt).toLocaleDateString()}</td>
                      <td><Button size="sm" variant="ghost" busy={busy === `revoke-${i.id}`} onClick={() => void act(`revoke-${i.id}`, async () => {
                        const r = await revoke({ id: i.id });
                        return r.error ? r.error.message : failureOf(r.data?.revokeInvitation, "Deleted");
                      }, "Invitation revoked.")}>Revoke</Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      ) : null}
      {link ? (
        <Modal title="Invitation link" onClose={() => setLink(null)}>
          <p>Send this link to the person invited. It is shown only now.</p>
          <input className="input mono" readOnly value={link} onFocus={(e) => e.target.select()} aria-label="Invitation link" data-testid="invitation-link" />
          <div className="row" style={{ justifyContent: "flex-end", gap: 8, marginTop: 12 }}>
            <Button onClick={() => { void navigator.clipboard?.writeText(link).then(() => toast.success("Link copied.")).catch(() => toast.error("Copy it by hand.")); }}>Copy</Button>
            <Button variant="primary" onClick={() => setLink(null)}>Done</Button>
          </div>
        </Modal>
      ) : null}
      {removing ? (
        <Modal title={`Deactivate ${removing.name}?`} onClose={() => setRemoving(null)}>
          <p>Their access and sessions end at once. Conversations assigned to them stay where they are.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setRemoving(null)}>Cancel</Button>
            <Button variant="danger" busy={busy === "deactivate"} onClick={() => {
              const m = removing;
              void act("deactivate", async () => {
                const r = await deactivate({ userId: m.id });
                setRemoving(null);
                return r.error ? r.error.message : failureOf(r.data?.deactivateUser, "Deactivated");
              }, `${m.name} deactivated.`);
            }}>Deactivate</Button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
