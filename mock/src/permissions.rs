//! Teams API key permissions, named exactly as the seed documentation writes them.

/// Every permission name, as the seeds write them.
pub const ALL_PERMISSIONS: &[&str] = &[
    "Access Audit Log",
    "View Groups",
    "Create Team Group",
    "Update Team Group",
    "Delete Team Group",
    "Remove Group Members",
    "Add Permitted Team Groups",
    "Remove Permitted Team Groups",
    "Update Permitted Team Group",
    "Add Group Members",
    "View Guest Access Links",
    "Manage Guest Access Links",
    "Create Guest Access Links",
    "Team Machine Kick Guest",
    "View Credit Balance",
    "View Team Computers",
    "Manage Team Computers",
    "Delete Team Computers",
    "Team Machine Kick User",
    "View App Rules",
    "Manage App Rule Assignments",
    "View Team Members",
    "Remove Team Members",
    "View Team Invites",
    "Create Team Invites",
    "Manage Team Invites",
    "Delete Team Invites",
    "Delete Team Invite",
];

/// One permission: an index into [`ALL_PERMISSIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm(u8);

impl Perm {
    pub const ACCESS_AUDIT_LOG: Perm = Perm(0);
    pub const VIEW_GROUPS: Perm = Perm(1);
    pub const CREATE_TEAM_GROUP: Perm = Perm(2);
    pub const UPDATE_TEAM_GROUP: Perm = Perm(3);
    pub const DELETE_TEAM_GROUP: Perm = Perm(4);
    pub const REMOVE_GROUP_MEMBERS: Perm = Perm(5);
    pub const ADD_PERMITTED_TEAM_GROUPS: Perm = Perm(6);
    pub const REMOVE_PERMITTED_TEAM_GROUPS: Perm = Perm(7);
    pub const UPDATE_PERMITTED_TEAM_GROUP: Perm = Perm(8);
    pub const ADD_GROUP_MEMBERS: Perm = Perm(9);
    pub const VIEW_GUEST_ACCESS_LINKS: Perm = Perm(10);
    pub const MANAGE_GUEST_ACCESS_LINKS: Perm = Perm(11);
    pub const CREATE_GUEST_ACCESS_LINKS: Perm = Perm(12);
    pub const TEAM_MACHINE_KICK_GUEST: Perm = Perm(13);
    pub const VIEW_CREDIT_BALANCE: Perm = Perm(14);
    pub const VIEW_TEAM_COMPUTERS: Perm = Perm(15);
    pub const MANAGE_TEAM_COMPUTERS: Perm = Perm(16);
    pub const DELETE_TEAM_COMPUTERS: Perm = Perm(17);
    pub const TEAM_MACHINE_KICK_USER: Perm = Perm(18);
    pub const VIEW_APP_RULES: Perm = Perm(19);
    pub const MANAGE_APP_RULE_ASSIGNMENTS: Perm = Perm(20);
    pub const VIEW_TEAM_MEMBERS: Perm = Perm(21);
    pub const REMOVE_TEAM_MEMBERS: Perm = Perm(22);
    pub const VIEW_TEAM_INVITES: Perm = Perm(23);
    pub const CREATE_TEAM_INVITES: Perm = Perm(24);
    pub const MANAGE_TEAM_INVITES: Perm = Perm(25);
    pub const DELETE_TEAM_INVITES: Perm = Perm(26);
    pub const DELETE_TEAM_INVITE: Perm = Perm(27);

    pub fn bit(self) -> u64 {
        1 << self.0
    }
    pub fn name(self) -> &'static str {
        ALL_PERMISSIONS[self.0 as usize]
    }
}

/// Bit set of every permission.
pub fn all_bits() -> u64 {
    (1u64 << ALL_PERMISSIONS.len()) - 1
}

/// The bit set of the named permissions; `Err(name)` for an unknown name.
pub fn bits_of<S: AsRef<str>>(names: &[S]) -> Result<u64, String> {
    let mut bits = 0;
    for n in names {
        let n = n.as_ref().trim();
        match ALL_PERMISSIONS.iter().position(|p| *p == n) {
            Some(i) => bits |= 1 << i,
            None => return Err(n.to_string()),
        }
    }
    Ok(bits)
}
