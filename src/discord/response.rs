//! What the bot answers, as plain values, and the [`Responder`] a transport implements
//! to deliver them. Each value serialises to the JSON Discord takes (an interaction
//! callback, or the body of an edit of the original response), so a transport only sends
//! bytes: it never builds a message itself, and a new kind of response needs no change
//! to any transport. Every message carries an empty `allowed_mentions`.

use std::future::Future;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::commands::ButtonId;
use super::error::SendError;

/// Discord's flag for a message only its recipient sees.
const EPHEMERAL: u64 = 1 << 6;

/// A message as the bot will send it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub content: String,
    pub embeds: Vec<Embed>,
    /// One row of buttons under the message (none when empty).
    pub buttons: Vec<Button>,
    pub ephemeral: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub url: Option<String>,
    pub footer: String,
    pub fields: Vec<Field>,
    pub colour: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A grey button that continues a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub id: ButtonId,
    pub label: String,
    pub disabled: bool,
}

/// One autocomplete suggestion: what the user sees and the option value it fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// A form Discord shows in a pop-up; its answers come back as a modal-submit interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Modal {
    /// Names the form when its answers come back (at most 100 characters).
    pub custom_id: String,
    /// At most 45 characters.
    pub title: String,
    pub inputs: Vec<TextInput>,
}

/// One text box of a [`Modal`], under its label.
#[derive(Debug, Clone, PartialEq)]
pub struct TextInput {
    pub custom_id: String,
    /// At most 45 characters.
    pub label: String,
    /// Several lines rather than one.
    pub paragraph: bool,
    pub required: bool,
    pub max_length: Option<u16>,
}

/// One response to an interaction. The first response to an interaction must be one
/// of the callbacks (every variant but [`Response::Edit`]); Discord allows one.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A new message (Discord's callback type 4).
    Message(Message),
    /// "Thinking…", to be replaced by an [`Response::Edit`] within 15 minutes (type 5).
    Defer { ephemeral: bool },
    /// Replaces the message whose button was pressed (type 7).
    Update(Message),
    /// Replaces only the buttons of the message whose button was pressed (type 7
    /// without content or embeds, which Discord then leaves as they are).
    UpdateButtons(Vec<Button>),
    /// Suggestions for the option being typed (type 8).
    Autocomplete(Vec<Choice>),
    /// A pop-up form (type 9).
    Modal(Modal),
    /// Replaces the original response (not a callback: a webhook edit).
    Edit(Message),
}

/// How a transport delivers the responses of one interaction, in the order given.
pub trait Responder: Sync {
    /// Sends one response.
    ///
    /// # Errors
    /// When Discord could not be reached or refused it.
    fn send(&self, response: Response) -> impl Future<Output = Result<(), SendError>> + Send;
}

impl Response {
    /// Whether this is a webhook edit rather than an interaction callback.
    pub fn is_edit(&self) -> bool {
        matches!(self, Response::Edit(_))
    }
}

/// The JSON of a response: an interaction callback (`{"type", "data"}`), or for
/// [`Response::Edit`] the body of the PATCH to the original response.
impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Response::Message(message) => callback(serializer, 4, &CallbackMessage::Full(message)),
            Response::Defer { ephemeral } => {
                callback(serializer, 5, &CallbackMessage::Defer(*ephemeral))
            }
            Response::Update(message) => callback(serializer, 7, &CallbackMessage::Full(message)),
            Response::UpdateButtons(buttons) => {
                callback(serializer, 7, &CallbackMessage::Buttons(buttons))
            }
            Response::Autocomplete(choices) => callback(serializer, 8, &AutocompleteData(choices)),
            Response::Modal(modal) => callback(serializer, 9, modal),
            Response::Edit(message) => EditBody(message).serialize(serializer),
        }
    }
}

fn callback<S: Serializer>(
    serializer: S,
    kind: u8,
    data: &impl Serialize,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(2))?;
    map.serialize_entry("type", &kind)?;
    map.serialize_entry("data", data)?;
    map.end()
}

/// No one may be pinged: no parse, no users, no roles.
struct NoMentions;

impl Serialize for NoMentions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("AllowedMentions", 3)?;
        map.serialize_field("parse", &[(); 0])?;
        map.serialize_field("users", &[(); 0])?;
        map.serialize_field("roles", &[(); 0])?;
        map.end()
    }
}

/// The `data` of a message callback: a whole message, a deferral's flags alone, or the
/// buttons alone.
enum CallbackMessage<'a> {
    Full(&'a Message),
    Defer(bool),
    Buttons(&'a [Button]),
}

fn flags(ephemeral: bool) -> u64 {
    if ephemeral {
        EPHEMERAL
    } else {
        0
    }
}

impl Serialize for CallbackMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            CallbackMessage::Full(message) => {
                if !message.content.is_empty() {
                    map.serialize_entry("content", &message.content)?;
                }
                map.serialize_entry("embeds", &message.embeds)?;
                map.serialize_entry("allowed_mentions", &NoMentions)?;
                map.serialize_entry("flags", &flags(message.ephemeral))?;
                map.serialize_entry("components", &Rows(&message.buttons))?;
            }
            CallbackMessage::Defer(ephemeral) => {
                map.serialize_entry("allowed_mentions", &NoMentions)?;
                map.serialize_entry("flags", &flags(*ephemeral))?;
            }
            CallbackMessage::Buttons(buttons) => {
                // Nothing else: content, embeds and attachments stay as they are.
                map.serialize_entry("allowed_mentions", &NoMentions)?;
                map.serialize_entry("components", &Rows(buttons))?;
                return map.end();
            }
        }
        map.serialize_entry("attachments", &[(); 0])?;
        map.end()
    }
}

/// The body of an edit: every part is sent, so that an edit replaces the whole message
/// (an empty content clears a "thinking…" or progress line).
struct EditBody<'a>(&'a Message);

impl Serialize for EditBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("Edit", 4)?;
        map.serialize_field("content", &self.0.content)?;
        map.serialize_field("embeds", &self.0.embeds)?;
        map.serialize_field("allowed_mentions", &NoMentions)?;
        map.serialize_field("components", &Rows(&self.0.buttons))?;
        map.end()
    }
}

/// Buttons as Discord's components: one action row, or no rows at all.
struct Rows<'a>(&'a [Button]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(rename = "type")]
            kind: u8,
            components: &'a [Button],
        }
        let rows: &[Row] = &[Row {
            kind: 1,
            components: self.0,
        }];
        if self.0.is_empty() {
            [(); 0].serialize(serializer)
        } else {
            rows.serialize(serializer)
        }
    }
}

impl Serialize for Button {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("Button", 5)?;
        map.serialize_field("type", &2u8)?;
        // Secondary: grey.
        map.serialize_field("style", &2u8)?;
        map.serialize_field("custom_id", &self.id.to_string())?;
        map.serialize_field("label", &self.label)?;
        map.serialize_field("disabled", &self.disabled)?;
        map.end()
    }
}

impl Serialize for Embed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Footer<'a> {
            text: &'a str,
        }
        #[derive(Serialize)]
        struct FieldJson<'a> {
            name: &'a str,
            value: &'a str,
            inline: bool,
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("title", &self.title)?;
        map.serialize_entry("type", "rich")?;
        if !self.description.is_empty() {
            map.serialize_entry("description", &self.description)?;
        }
        if let Some(url) = &self.url {
            map.serialize_entry("url", url)?;
        }
        map.serialize_entry("color", &self.colour)?;
        if !self.footer.is_empty() {
            map.serialize_entry("footer", &Footer { text: &self.footer })?;
        }
        let fields: Vec<FieldJson> = self
            .fields
            .iter()
            .map(|f| FieldJson {
                name: &f.name,
                value: &f.value,
                inline: false,
            })
            .collect();
        if !fields.is_empty() {
            map.serialize_entry("fields", &fields)?;
        }
        map.end()
    }
}

struct AutocompleteData<'a>(&'a [Choice]);

impl Serialize for AutocompleteData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("Autocomplete", 1)?;
        map.serialize_field("choices", self.0)?;
        map.end()
    }
}

impl Serialize for Modal {
    /// Each text box, with its label, in an action row of its own (type 1). Discord also
    /// takes label components (type 18), but then sends the answers back in labels,
    /// which serenity 0.12 cannot read: the whole submit would be lost.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Input<'a> {
            #[serde(rename = "type")]
            kind: u8,
            custom_id: &'a str,
            label: &'a str,
            style: u8,
            required: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_length: Option<u16>,
        }
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(rename = "type")]
            kind: u8,
            components: [Input<'a>; 1],
        }
        let components: Vec<Row> = self
            .inputs
            .iter()
            .map(|input| Row {
                kind: 1,
                components: [Input {
                    kind: 4,
                    custom_id: &input.custom_id,
                    label: &input.label,
                    style: if input.paragraph { 2 } else { 1 },
                    required: input.required,
                    max_length: input.max_length,
                }],
            })
            .collect();
        let mut map = serializer.serialize_struct("Modal", 3)?;
        map.serialize_field("custom_id", &self.custom_id)?;
        map.serialize_field("title", &self.title)?;
        map.serialize_field("components", &components)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message() -> Message {
        Message {
            content: "**Q:** hi".into(),
            embeds: vec![Embed {
                title: "T".into(),
                description: "D".into(),
                url: Some("https://example.org".into()),
                footer: "F".into(),
                fields: vec![Field {
                    name: "N".into(),
                    value: "V".into(),
                }],
                colour: 0x2B6CB0,
            }],
            buttons: vec![Button {
                id: ButtonId::MoreResults { session: 7 },
                label: "More results".into(),
                disabled: false,
            }],
            ephemeral: true,
        }
    }

    #[test]
    fn callbacks_have_discords_shape_and_allow_no_mentions() {
        let value = serde_json::to_value(Response::Message(message())).unwrap();
        assert_eq!(
            value,
            json!({"type": 4, "data": {
                "content": "**Q:** hi",
                "embeds": [{"title": "T", "type": "rich", "description": "D", "url": "https://example.org",
                            "color": 0x2B6CB0, "footer": {"text": "F"},
                            "fields": [{"name": "N", "value": "V", "inline": false}]}],
                "allowed_mentions": {"parse": [], "users": [], "roles": []},
                "flags": 64,
                "components": [{"type": 1, "components": [
                    {"type": 2, "style": 2, "custom_id": "more:7", "label": "More results", "disabled": false}
                ]}],
                "attachments": []
            }})
        );
        let defer = serde_json::to_value(Response::Defer { ephemeral: false }).unwrap();
        assert_eq!(
            defer,
            json!({"type": 5, "data": {"allowed_mentions": {"parse": [], "users": [], "roles": []}, "flags": 0, "attachments": []}})
        );
        let buttons = serde_json::to_value(Response::UpdateButtons(message().buttons)).unwrap();
        assert_eq!(
            buttons,
            json!({"type": 7, "data": {
                "allowed_mentions": {"parse": [], "users": [], "roles": []},
                "components": [{"type": 1, "components": [
                    {"type": 2, "style": 2, "custom_id": "more:7", "label": "More results", "disabled": false}
                ]}]
            }})
        );
        let update = serde_json::to_value(Response::Update(Message::default())).unwrap();
        assert_eq!(update["type"], 7);
        assert_eq!(update["data"]["components"], json!([]));
        let choices = Response::Autocomplete(vec![Choice {
            name: "Kibo".into(),
            value: "iss-kibo".into(),
        }]);
        assert_eq!(
            serde_json::to_value(choices).unwrap(),
            json!({"type": 8, "data": {"choices": [{"name": "Kibo", "value": "iss-kibo"}]}})
        );
    }

    #[test]
    fn edits_replace_the_whole_message() {
        let value = serde_json::to_value(Response::Edit(Message {
            content: String::new(),
            ..message()
        }))
        .unwrap();
        assert_eq!(value["content"], "");
        assert_eq!(
            value["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []})
        );
        assert!(value.get("type").is_none() && value.get("flags").is_none());
        assert_eq!(
            value["components"][0]["components"][0]["custom_id"],
            "more:7"
        );
    }

    #[test]
    fn modals_hold_labelled_text_inputs_in_rows() {
        let modal = Response::Modal(Modal {
            custom_id: "feedback:7".into(),
            title: "Feedback".into(),
            inputs: vec![TextInput {
                custom_id: "comment".into(),
                label: "What was wrong?".into(),
                paragraph: true,
                required: false,
                max_length: Some(1_000),
            }],
        });
        assert_eq!(
            serde_json::to_value(modal).unwrap(),
            json!({"type": 9, "data": {"custom_id": "feedback:7", "title": "Feedback", "components": [
                {"type": 1, "components": [
                    {"type": 4, "custom_id": "comment", "label": "What was wrong?", "style": 2,
                     "required": false, "max_length": 1000}]}
            ]}})
        );
    }
}
