//! What the bot registers with Discord for each slash command, serialised as Discord's
//! application-command JSON (fields left out where Discord's default applies).

use serde::{Serialize, Serializer};

use crate::discord::interaction::Permissions;

/// A slash command as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub name: &'static str,
    pub description: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDefinition>,
    /// Who sees the command by default; servers can change it, so the bot checks
    /// admin commands itself too.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "permissions_as_string"
    )]
    pub default_member_permissions: Option<Permissions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_permission: Option<bool>,
}

/// One option of a slash command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionDefinition {
    #[serde(rename = "type")]
    pub kind: OptionType,
    pub name: &'static str,
    pub description: &'static str,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    #[serde(skip_serializing_if = "is_false")]
    pub autocomplete: bool,
}

/// Discord's application-command option types that the bot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    String,
    Integer,
    Boolean,
}

impl Serialize for OptionType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(match self {
            OptionType::String => 3,
            OptionType::Integer => 4,
            OptionType::Boolean => 5,
        })
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

/// Discord sends and takes permission sets as decimal strings.
fn permissions_as_string<S: Serializer>(
    permissions: &Option<Permissions>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match permissions {
        Some(permissions) => serializer.collect_str(&permissions.0),
        None => serializer.serialize_none(),
    }
}

impl Definition {
    pub fn new(name: &'static str, description: &'static str) -> Definition {
        Definition {
            name,
            description,
            options: Vec::new(),
            default_member_permissions: None,
            dm_permission: None,
        }
    }

    pub fn option(mut self, option: OptionDefinition) -> Definition {
        self.options.push(option);
        self
    }

    /// Shown by default only to members with `permissions`.
    pub fn default_member_permissions(mut self, permissions: Permissions) -> Definition {
        self.default_member_permissions = Some(permissions);
        self
    }

    /// Not offered in direct messages.
    pub fn no_direct_messages(mut self) -> Definition {
        self.dm_permission = Some(false);
        self
    }
}

impl OptionDefinition {
    /// An optional option.
    pub fn new(
        kind: OptionType,
        name: &'static str,
        description: &'static str,
    ) -> OptionDefinition {
        OptionDefinition {
            kind,
            name,
            description,
            required: false,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            autocomplete: false,
        }
    }

    pub fn required(mut self) -> OptionDefinition {
        self.required = true;
        self
    }

    /// Discord refuses text shorter than `min` or longer than `max` characters.
    pub fn length(mut self, min: u16, max: u16) -> OptionDefinition {
        self.min_length = Some(min);
        self.max_length = Some(max);
        self
    }

    /// Discord refuses a number below `min` or above `max`.
    pub fn range(mut self, min: i64, max: i64) -> OptionDefinition {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }

    /// Discord asks the bot for choices while the user types.
    pub fn autocomplete(mut self) -> OptionDefinition {
        self.autocomplete = true;
        self
    }
}

/// The `private` option that `/ask` and `/search` share.
pub fn private_option() -> OptionDefinition {
    OptionDefinition::new(OptionType::Boolean, "private", "Show the reply only to you")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_serialise_as_discord_expects() {
        let definition = Definition::new("reindex", "Admins: reindex")
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .no_direct_messages()
            .option(
                OptionDefinition::new(OptionType::String, "q", "A question")
                    .required()
                    .length(1, 300)
                    .autocomplete(),
            )
            .option(private_option());
        assert_eq!(
            serde_json::to_value(&definition).unwrap(),
            serde_json::json!({
                "name": "reindex", "description": "Admins: reindex",
                "options": [
                    { "type": 3, "name": "q", "description": "A question", "required": true,
                      "min_length": 1, "max_length": 300, "autocomplete": true },
                    { "type": 5, "name": "private", "description": "Show the reply only to you" }
                ],
                "default_member_permissions": "32", "dm_permission": false
            })
        );
        let help = Definition::new("help", "Help");
        assert_eq!(
            serde_json::to_string(&help).unwrap(),
            r#"{"name":"help","description":"Help"}"#
        );
    }
}
