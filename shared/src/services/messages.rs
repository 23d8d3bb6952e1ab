//! What users receive, in the configured language. The code or link is always in the body.

use super::codes::Purpose;
use crate::{
    config::Lang,
    domain::Code,
    sender::{Channel, Message},
};

pub(crate) fn code(
    lang: Lang,
    purpose: Purpose,
    channel: Channel,
    to: &str,
    code: &Code,
) -> Message {
    let minutes = purpose.ttl() / 60;
    let c = code.as_str();
    let (subject, body) = match lang {
        Lang::Zh => {
            let what = match purpose {
                Purpose::Register => "注册",
                Purpose::Login => "登录",
                Purpose::ResetPassword => "重置密码",
                Purpose::SecondFactor => "登录确认",
                Purpose::AnyEmail => "邮箱",
            };
            (
                format!("您的{what}验证码"),
                format!("您的{what}验证码是 {c}，{minutes} 分钟内有效。如非本人操作，请忽略。"),
            )
        }
        Lang::En => {
            let what = match purpose {
                Purpose::Register => "sign-up",
                Purpose::Login => "sign-in",
                Purpose::ResetPassword => "password reset",
                Purpose::SecondFactor => "sign-in confirmation",
                Purpose::AnyEmail => "email verification",
            };
            (
                format!("Your {what} code"),
                format!("Your {what} code is {c}. It is valid for {minutes} minutes. If this was not you, ignore this message."),
            )
        }
    };
    Message {
        channel,
        to: to.to_string(),
        subject,
        body,
    }
}

pub(crate) fn reset_link(lang: Lang, to: &str, link: &str, token: &str) -> Message {
    let hours = super::reset::RESET_TTL / 3600;
    let (subject, body) = match lang {
        Lang::Zh => (
            "重置您的登录凭证".to_string(),
            format!("请打开以下链接重置密码（{hours} 小时内有效）：\n{link}\n重置码：{token}\n如非本人操作，请忽略。"),
        ),
        Lang::En => (
            "Reset your password".to_string(),
            format!("Open this link to reset your password (valid for {hours} hours):\n{link}\nReset code: {token}\nIf this was not you, ignore this message."),
        ),
    };
    Message {
        channel: Channel::Email,
        to: to.to_string(),
        subject,
        body,
    }
}

/// To the owner of a contact someone had claimed: the account is theirs now, with a password
/// nobody knows, and every earlier session ended.
pub(crate) fn reclaimed(lang: Lang, channel: Channel, to: &str) -> Message {
    let (subject, body) = match lang {
        Lang::Zh => (
            "您的账号已收回".to_string(),
            "有人曾用您的联系方式注册账号。您刚才用验证码登录，账号已归您所有：原密码已失效，其他登录已全部退出。如需密码，请通过重置密码设置。".to_string(),
        ),
        Lang::En => (
            "Your account is yours again".to_string(),
            "Someone had signed up with your contact details. You have just signed in with a code, so the account is now yours: its old password no longer works and every other session has ended. Reset the password to set one.".to_string(),
        ),
    };
    Message {
        channel,
        to: to.to_string(),
        subject,
        body,
    }
}

/// To the old mobile and the email when a reset link set a new mobile.
pub(crate) fn mobile_changed(lang: Lang, channel: Channel, to: &str) -> Message {
    let (subject, body) = match lang {
        Lang::Zh => (
            "您的手机号已更改".to_string(),
            "您账号的手机号刚通过重置链接更改。如非本人操作，请立即重置密码。".to_string(),
        ),
        Lang::En => (
            "Your mobile number was changed".to_string(),
            "The mobile number of your account was just changed through a reset link. If this was not you, reset your password now.".to_string(),
        ),
    };
    Message {
        channel,
        to: to.to_string(),
        subject,
        body,
    }
}
