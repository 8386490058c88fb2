//! An interaction as the bot's commands see it: who sent it, from where, and the data
//! of what they did, in our own plain types. A transport (the serenity gateway today)
//! builds it; command code never sees a transport's types, and never the interaction's
//! token, which stays with the transport that must answer it.
//!
//! The data types take the field names of Discord's JSON, so that a transport that
//! receives interactions as JSON (Discord's HTTP interactions endpoint) can deserialize
//! them as they come.

use serde::{Deserialize, Serialize};

use crate::config::AdminConfig;

/// One interaction, before its data is parsed into a command or a button
/// (see [`super::commands::Action::parse`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    /// Discord's id of the interaction (a snowflake).
    pub id: u64,
    pub user: User,
    /// The server it came from; `None` in a direct message.
    pub guild_id: Option<u64>,
    /// The channel it came from, for insights; `None` when the transport does not say.
    #[serde(default)]
    pub channel_id: Option<u64>,
    /// The sender as a member of that server; `None` in a direct message.
    pub member: Option<Member>,
    pub data: Data,
}

/// The person who sent an interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    /// Their user name, for logs and "started by …" messages; never trusted for access.
    pub name: String,
}

/// What Discord says about the sender as a member of the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Their permissions in the channel, as Discord computed them; `None` when Discord
    /// did not send them, which grants nothing.
    pub permissions: Option<Permissions>,
    pub roles: Vec<u64>,
}

/// Discord's permission bits (only the ones the bot checks are named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(pub u64);

impl Permissions {
    pub const ADMINISTRATOR: Permissions = Permissions(1 << 3);
    pub const MANAGE_GUILD: Permissions = Permissions(1 << 5);

    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Data {
    /// Ran a slash command (Discord's interaction type 2).
    Command(CommandData),
    /// Is typing an option that autocompletes (type 4); one option is `focused`.
    Autocomplete(CommandData),
    /// Pressed a button of one of our messages (type 3).
    Component(ComponentData),
    /// Sent a form (modal) of ours (type 5).
    ModalSubmit(ModalData),
}

/// A slash command's name and options, as in Discord's `data` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandData {
    pub name: String,
    #[serde(default)]
    pub options: Vec<CommandOption>,
}

/// One option the user filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandOption {
    pub name: String,
    pub value: OptionValue,
    /// Whether the user is typing this option (autocomplete only).
    #[serde(default)]
    pub focused: bool,
}

/// An option's value; Discord's `type` field is implied by the JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptionValue {
    Bool(bool),
    Integer(i64),
    Number(f64),
    String(String),
}

/// A component press, as in Discord's `data` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentData {
    /// The id we gave the button (see [`super::commands::ButtonId`]).
    pub custom_id: String,
}

/// A submitted form, as in Discord's `data` object: the form's id and the value of each
/// text box, whichever layout (action rows or labels) the form had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModalData {
    /// The id we gave the form (see [`super::commands::Action::parse`]).
    pub custom_id: String,
    pub fields: Vec<ModalField>,
}

/// One text box of a submitted form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModalField {
    pub custom_id: String,
    pub value: String,
}

impl CommandData {
    /// The string value of option `name`, if given.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| match &o.value {
                OptionValue::String(s) => Some(s.as_str()),
                _ => None,
            })
    }

    /// The integer value of option `name`, if given.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| match o.value {
                OptionValue::Integer(i) => Some(i),
                _ => None,
            })
    }

    /// The boolean value of option `name`, if given.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| match o.value {
                OptionValue::Bool(b) => Some(b),
                _ => None,
            })
    }

    /// The option being typed, and what was typed so far.
    pub fn focused(&self) -> Option<(&str, &str)> {
        self.options
            .iter()
            .find(|o| o.focused)
            .map(|o| match &o.value {
                OptionValue::String(s) => (o.name.as_str(), s.as_str()),
                _ => (o.name.as_str(), ""),
            })
    }
}

impl Interaction {
    /// Whether the sender may run admin commands: Manage Server or Administrator in the
    /// permissions Discord sent, or listed in `[admin]`. Never in a direct message, and
    /// never without member data, whatever the lists say.
    pub fn is_admin(&self, admin: &AdminConfig) -> bool {
        let Some(member) = &self.member else {
            return false;
        };
        if self.guild_id.is_none() {
            return false;
        }
        let permitted = member.permissions.is_some_and(|p| {
            p.contains(Permissions::MANAGE_GUILD) || p.contains(Permissions::ADMINISTRATOR)
        });
        let listed_user = admin.user_ids.contains(&self.user.id);
        let listed_role = member.roles.iter().any(|r| admin.role_ids.contains(r));
        permitted || listed_user || listed_role
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interaction(guild: Option<u64>, member: Option<Member>) -> Interaction {
        Interaction {
            id: 1,
            user: User {
                id: 7,
                name: "someone".into(),
            },
            guild_id: guild,
            channel_id: None,
            member,
            data: Data::Component(ComponentData {
                custom_id: String::new(),
            }),
        }
    }

    fn member(permissions: Option<u64>, roles: &[u64]) -> Option<Member> {
        Some(Member {
            permissions: permissions.map(Permissions),
            roles: roles.to_vec(),
        })
    }

    #[test]
    fn admins_are_recognised_by_permission_or_listing_in_a_server_only() {
        let none = AdminConfig::default();
        let listed = AdminConfig {
            user_ids: vec![7],
            role_ids: vec![99],
        };
        let roles = AdminConfig {
            user_ids: vec![],
            role_ids: vec![99],
        };
        assert!(interaction(Some(1), member(Some(1 << 5), &[])).is_admin(&none));
        assert!(interaction(Some(1), member(Some(1 << 3), &[])).is_admin(&none));
        assert!(interaction(Some(1), member(Some(0), &[])).is_admin(&listed));
        assert!(interaction(Some(1), member(None, &[99])).is_admin(&roles));
        // Send Messages and Manage Messages are not Manage Server.
        assert!(!interaction(Some(1), member(Some((1 << 11) | (1 << 13)), &[])).is_admin(&none));
        assert!(!interaction(Some(1), member(None, &[98])).is_admin(&roles));
        assert!(!interaction(None, member(Some(1 << 5), &[])).is_admin(&listed));
        assert!(!interaction(Some(1), None).is_admin(&listed));
    }

    #[test]
    fn command_data_reads_discords_json() {
        // As the fake Discord (and Discord) send it, `type` fields and all.
        let data: CommandData = serde_json::from_value(serde_json::json!({
            "id": "930000000000000001", "name": "ask", "type": 1,
            "options": [
                { "name": "question", "type": 3, "value": "Who built Kibo?" },
                { "name": "private", "type": 5, "value": true },
                { "name": "document", "type": 3, "value": "ki", "focused": true }
            ]
        }))
        .unwrap();
        assert_eq!(data.name, "ask");
        assert_eq!(data.string("question"), Some("Who built Kibo?"));
        assert_eq!(data.bool("private"), Some(true));
        assert_eq!(data.string("private"), None);
        assert_eq!(data.focused(), Some(("document", "ki")));
        let component: ComponentData = serde_json::from_value(
            serde_json::json!({ "custom_id": "page:3:1", "component_type": 2 }),
        )
        .unwrap();
        assert_eq!(component.custom_id, "page:3:1");
    }
}
